"""The benchmark zoo's networks, each built twice: from ``chainrule.nn`` layers and from ``torch.nn`` layers.

Not the library's model zoo (that is issue 18): small, readable definitions for the speed benchmarks
(``benchmarks/zoo.py``), with parameter and buffer names that are PyTorch's, so that
``copy_weights(chainrule_model, torch_model)`` gives both the same starting point.

Networks (``build(name, lib)``; ``lib`` is ``chainrule.nn`` or ``torch.nn``):

* ``resnet20``   CIFAR ResNet-20 (He et al. 2016, §4.2 with 1×1 projection shortcuts): 3×32×32 →
                 conv3×3 16 + BN + ReLU → 3 stages of 3 basic blocks (16, 32, 64 channels; the first
                 block of stages 2 and 3 has stride 2 and a 1×1 conv + BN shortcut) → global average
                 pooling → Linear(64, 10).
* ``vgg``        VGG-style 32×32 net: [conv3×3 + BN + ReLU] × 2 per stage at 32, 64, 128 channels,
                 2×2 max pooling after each stage → Linear(128·4·4, 10).
* ``mobilenetv2`` MobileNetV2 inverted-residual blocks at 32×32: conv3×3 32 + BN + ReLU6 → blocks
                 (expansion t, channels c, repeats n, stride s) = (1,16,1,1), (6,24,2,1), (6,32,2,2),
                 (6,64,2,2); each block 1×1 expand + BN + ReLU6 (t > 1), 3×3 depthwise (groups =
                 channels) + BN + ReLU6, 1×1 project + BN, identity shortcut when stride 1 and the
                 channels match → 1×1 conv 256 + BN + ReLU6 → global average pooling → Linear(256, 10).
* ``resnet18``   ImageNet ResNet-18 (torchvision's layout and names): conv7×7 s2 64 + BN + ReLU →
                 max pool 3×3 s2 → 4 stages of 2 basic blocks (64, 128, 256, 512; stride-2 stages with
                 a 1×1 conv + BN ``downsample``) → global average pooling → Linear(512, 1000).
* ``lstm_lm``    word-level language model (PTB "small" of Zaremba et al. 2014): Embedding(10,000,
                 200) → LSTM(200, 200, 2 layers) → Linear(200, 10,000) at every time step; the loss is
                 the cross-entropy over all B·T positions.

Convolutions before a batch norm have no bias (as in the papers and torchvision).
"""

import sys

import numpy

SEED = 0
VOCAB, EMBED, HIDDEN = 10_000, 200, 200


def _rng(seed):
    return numpy.random.default_rng(seed)


def _kw(lib, rng):
    """Extra keyword arguments of a layer: chainrule's layers take a seed (a shared Generator: one
    deterministic draw for the whole model); torch's draw from torch's global generator (overwritten
    by ``copy_weights`` anyway)."""
    return {"seed": rng} if _is_chainrule(lib) else {}


def _is_chainrule(lib):
    return lib.__name__.startswith("chainrule")


def conv_bn(lib, rng, cin, cout, k, stride=1, groups=1, act="relu"):
    """[Conv2d(k, stride, padding k//2, no bias), BatchNorm2d] plus ReLU/ReLU6 when ``act``."""
    layers = [lib.Conv2d(cin, cout, k, stride=stride, padding=k // 2, groups=groups, bias=False, **_kw(lib, rng)),
              lib.BatchNorm2d(cout)]
    if act == "relu":
        layers.append(lib.ReLU())
    elif act == "relu6":
        layers.append(lib.ReLU6())
    return layers


# -------------------------------------------------------------------------- residual nets
def basic_block(lib, rng, cin, cout, stride, shortcut_name="shortcut"):
    """A ResNet basic block: conv3×3 + BN + ReLU, conv3×3 + BN, plus the shortcut (identity, or 1×1 conv +
    BN when the shape changes), then ReLU. Attribute names are torchvision's (``downsample`` for
    ResNet-18, ``shortcut`` for the CIFAR net)."""
    base = lib.Module

    class BasicBlock(base):
        def __init__(self):
            super().__init__()
            self.conv1, self.bn1, self.relu = conv_bn(lib, rng, cin, cout, 3, stride)
            self.conv2, self.bn2 = conv_bn(lib, rng, cout, cout, 3, act=None)
            proj = lib.Sequential(*conv_bn(lib, rng, cin, cout, 1, stride, act=None)) \
                if stride != 1 or cin != cout else None
            setattr(self, shortcut_name, proj)
            self.shortcut_name = shortcut_name

        def forward(self, x):
            out = self.relu(self.bn1(self.conv1(x)))
            out = self.bn2(self.conv2(out))
            proj = getattr(self, self.shortcut_name)
            return self.relu(out + (x if proj is None else proj(x)))

    return BasicBlock()


def _classifier_net(lib, features, head):
    """features → global average pooling → flatten → head."""
    return lib.Sequential(*features, lib.AdaptiveAvgPool2d(1), lib.Flatten(), head)


def resnet20(lib, seed=SEED, classes=10):
    rng = _rng(seed)
    layers = conv_bn(lib, rng, 3, 16, 3)
    cin = 16
    for cout, stride in ((16, 1), (32, 2), (64, 2)):
        for i in range(3):
            layers.append(basic_block(lib, rng, cin, cout, stride if i == 0 else 1))
            cin = cout
    return _classifier_net(lib, layers, lib.Linear(64, classes, **_kw(lib, rng)))


def resnet18(lib, seed=SEED, classes=1000):
    """torchvision's names: conv1, bn1, relu, maxpool, layer1..layer4 (blocks with ``downsample``), fc."""
    rng = _rng(seed)
    base = lib.Module

    class ResNet18(base):
        def __init__(self):
            super().__init__()
            self.conv1, self.bn1, self.relu = conv_bn(lib, rng, 3, 64, 7, 2)
            self.maxpool = lib.MaxPool2d(3, stride=2, padding=1)
            cin = 64
            for i, (cout, stride) in enumerate(((64, 1), (128, 2), (256, 2), (512, 2)), 1):
                setattr(self, f"layer{i}", lib.Sequential(basic_block(lib, rng, cin, cout, stride, "downsample"),
                                                          basic_block(lib, rng, cout, cout, 1, "downsample")))
                cin = cout
            self.avgpool = lib.AdaptiveAvgPool2d(1)
            self.flatten = lib.Flatten()
            self.fc = lib.Linear(512, classes, **_kw(lib, rng))

        def forward(self, x):
            x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
            x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
            return self.fc(self.flatten(self.avgpool(x)))

    return ResNet18()


# ------------------------------------------------------------------------------ plain nets
def vgg(lib, seed=SEED, classes=10):
    rng = _rng(seed)
    layers, cin = [], 3
    for cout in (32, 64, 128):
        layers += conv_bn(lib, rng, cin, cout, 3) + conv_bn(lib, rng, cout, cout, 3) + [lib.MaxPool2d(2)]
        cin = cout
    return lib.Sequential(*layers, lib.Flatten(), lib.Linear(128 * 4 * 4, classes, **_kw(lib, rng)))


def inverted_residual(lib, rng, cin, cout, stride, expansion):
    """MobileNetV2's block: [1×1 expand + BN + ReLU6], 3×3 depthwise + BN + ReLU6, 1×1 project + BN,
    plus the input when the stride is 1 and the channels match."""
    base = lib.Module
    hidden = cin * expansion

    class InvertedResidual(base):
        def __init__(self):
            super().__init__()
            layers = conv_bn(lib, rng, cin, hidden, 1, act="relu6") if expansion != 1 else []
            layers += conv_bn(lib, rng, hidden, hidden, 3, stride, groups=hidden, act="relu6")
            layers += conv_bn(lib, rng, hidden, cout, 1, act=None)
            self.conv = lib.Sequential(*layers)
            self.residual = stride == 1 and cin == cout

        def forward(self, x):
            return x + self.conv(x) if self.residual else self.conv(x)

    return InvertedResidual()


def mobilenetv2(lib, seed=SEED, classes=10):
    rng = _rng(seed)
    layers, cin = conv_bn(lib, rng, 3, 32, 3, act="relu6"), 32
    for t, c, n, s in ((1, 16, 1, 1), (6, 24, 2, 1), (6, 32, 2, 2), (6, 64, 2, 2)):
        for i in range(n):
            layers.append(inverted_residual(lib, rng, cin, c, s if i == 0 else 1, t))
            cin = c
    layers += conv_bn(lib, rng, cin, 256, 1, act="relu6")
    return _classifier_net(lib, layers, lib.Linear(256, classes, **_kw(lib, rng)))


# ------------------------------------------------------------------------------ recurrent
def lstm_lm(lib, seed=SEED, vocab=VOCAB, embed=EMBED, hidden=HIDDEN):
    """Embedding → 2-layer LSTM (batch first) → Linear to the vocabulary at every step: (B, T) ids → (B·T, V)."""
    rng = _rng(seed)
    base = lib.Module
    kw = _kw(lib, rng)

    class LSTMLanguageModel(base):
        def __init__(self):
            super().__init__()
            self.embedding = lib.Embedding(vocab, embed, **kw)
            self.lstm = lib.LSTM(embed, hidden, num_layers=2, batch_first=True, **kw)
            self.decoder = lib.Linear(hidden, vocab, **kw)

        def forward(self, tokens):
            out, _ = self.lstm(self.embedding(tokens))
            return self.decoder(out.reshape(-1, hidden))

    return LSTMLanguageModel()


BUILDERS = {"resnet20": resnet20, "vgg": vgg, "mobilenetv2": mobilenetv2, "resnet18": resnet18, "lstm_lm": lstm_lm}


def build(name, lib, seed=SEED):
    """The network ``name`` (one of ``BUILDERS``) from ``lib`` (``chainrule.nn`` or ``torch.nn``)."""
    if name not in BUILDERS:
        raise ValueError(f"build: unknown network {name!r}; expected one of {', '.join(BUILDERS)}")
    return BUILDERS[name](lib, seed)


def weights_of(model):
    """A chainrule or torch model's state dict as NumPy arrays (copies)."""
    return {k: numpy.array(v.detach().numpy() if hasattr(v, "detach") else numpy.asarray(v))
            for k, v in model.state_dict().items()}


def copy_weights(source, target):
    """Load ``source``'s parameters and buffers (either library) into ``target`` (either library); the
    names must match one to one (they do for every network here)."""
    weights = weights_of(source)
    load_weights(target, weights)


def _is_torch(model):
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(model, torch.nn.Module)


def load_weights(model, weights):
    """Load a dict of NumPy arrays into a chainrule or torch model (strict: every name must match)."""
    ours = set(model.state_dict())
    if ours != set(weights):
        raise ValueError(f"load_weights: names differ: only in the model {sorted(ours - set(weights))[:5]}, "
                         f"only in the weights {sorted(set(weights) - ours)[:5]}")
    if _is_torch(model):
        import torch

        model.load_state_dict({k: torch.from_numpy(numpy.ascontiguousarray(v)) for k, v in weights.items()})
    else:
        model.load_state_dict(weights)
