"""End-to-end parity with PyTorch: scripts written as PyTorch users write them, run twice.

Each script takes ``lib``, a small name mapping (``lib.torch``, ``lib.nn``, ``lib.F``, ``lib.optim``,
``lib.data``), and is run once with PyTorch's modules and once with chainrule's, from the same initial
weights (PyTorch's ``state_dict()`` loaded into the chainrule model), in float64. Losses, outputs,
learning rates and final parameters must agree to 1e-7; dtypes, shapes and Python types must match.
Where chainrule differs on purpose (``.data`` is a NumPy array, model files are not pickles) the test
says so and checks that the difference is loud, not silent (docs/coming-from-pytorch.md lists them).
"""

import copy
import types
from collections import OrderedDict

import numpy as np
import pytest

torch = pytest.importorskip("torch")
sklearn_datasets = pytest.importorskip("sklearn.datasets")

import torch.nn  # noqa: E402
import torch.nn.functional  # noqa: E402
import torch.optim  # noqa: E402
import torch.utils.data  # noqa: E402

import chainrule as cr  # noqa: E402
import chainrule.nn.functional  # noqa: E402

TORCH = types.SimpleNamespace(name="torch", torch=torch, nn=torch.nn, F=torch.nn.functional, optim=torch.optim,
                              data=torch.utils.data)
CHAINRULE = types.SimpleNamespace(name="chainrule", torch=cr, nn=cr.nn, F=cr.nn.functional, optim=cr.optim,
                                  data=cr.data)

_X, _Y = sklearn_datasets.load_digits(return_X_y=True)
X = _X[:192] / 16.0  # float64 pixels in [0, 1]
Y = _Y[:192].astype(np.int64)


def plain(value):
    """Results of either library as NumPy arrays, tuples, str dtypes and Python scalars, for comparison."""
    if isinstance(value, (torch.Tensor, cr.Tensor)):
        return np.asarray(value.detach().numpy())
    if isinstance(value, (torch.dtype, np.dtype)):
        return str(value).replace("torch.", "")
    if isinstance(value, (tuple, list)):
        return type(value)(plain(v) for v in value) if not isinstance(value, torch.Size) else tuple(value)
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    return value


def assert_same(expected, actual, where="result"):
    """``actual`` (chainrule) equals ``expected`` (PyTorch): values to 1e-7, dtypes, shapes, Python types."""
    if isinstance(expected, np.ndarray):
        assert isinstance(actual, np.ndarray), f"{where}: expected an array, got {type(actual).__name__}"
        assert actual.dtype == expected.dtype, f"{where}: dtype {actual.dtype}, PyTorch gives {expected.dtype}"
        assert actual.shape == expected.shape, f"{where}: shape {actual.shape}, PyTorch gives {expected.shape}"
        np.testing.assert_allclose(actual, expected, rtol=1e-7, atol=1e-10, err_msg=where)
    elif isinstance(expected, dict):
        assert list(actual) == list(expected), f"{where}: keys {list(actual)}, PyTorch gives {list(expected)}"
        for key in expected:
            assert_same(expected[key], actual[key], f"{where}[{key!r}]")
    elif isinstance(expected, (list, tuple)):
        assert type(actual) is type(expected) and len(actual) == len(expected), \
            f"{where}: {actual!r}, PyTorch gives {expected!r}"
        for i, (e, a) in enumerate(zip(expected, actual)):
            assert_same(e, a, f"{where}[{i}]")
    elif isinstance(expected, float):
        assert type(actual) is float, f"{where}: a {type(actual).__name__}, PyTorch gives a float"
        np.testing.assert_allclose(actual, expected, rtol=1e-7, atol=1e-12, err_msg=where)
    else:
        assert type(actual) is type(expected) and actual == expected, f"{where}: {actual!r}, PyTorch gives {expected!r}"


def run_both(script):
    """Run ``script(lib, weights)`` with PyTorch (whose initial weights it returns) and then chainrule."""
    TORCH.torch.manual_seed(0)  # PyTorch draws the initial weights: the same ones whatever ran before
    weights, expected = script(TORCH, None)
    _, actual = script(CHAINRULE, weights)
    assert_same(plain(expected), plain(actual))
    return plain(expected), plain(actual)


def start_from(model, weights):
    """PyTorch's run records its initial weights; chainrule's run loads them (``load_state_dict``, strict)."""
    if weights is None:
        return {k: v.detach().numpy().copy() for k, v in model.state_dict().items()}
    model.load_state_dict(weights)
    return weights


# ---------------------------------------------------------------- 1. an MLP, the canonical loop
def mlp_script(lib, weights):
    torch, nn, F, optim, data = lib.torch, lib.nn, lib.F, lib.optim, lib.data

    class MLP(nn.Module):
        def __init__(self, in_features=64, hidden=32, classes=10):
            super().__init__()
            self.fc1 = nn.Linear(in_features, hidden)
            self.fc2 = nn.Linear(hidden, classes)

        def forward(self, x):
            x = F.relu(self.fc1(x))
            return self.fc2(x)

    model = MLP().double()
    weights = start_from(model, weights)
    x, y = torch.from_numpy(X), torch.from_numpy(Y)
    loader = data.DataLoader(data.TensorDataset(x, y), batch_size=32, shuffle=False)
    criterion = nn.CrossEntropyLoss()
    optimizer = optim.SGD(model.parameters(), lr=0.1, momentum=0.9, nesterov=True)
    scheduler = optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.5)
    out = {"losses": [], "lr": []}
    for epoch in range(2):
        model.train()
        for xb, yb in loader:
            optimizer.zero_grad()
            loss = criterion(model(xb), yb)
            loss.backward()
            optimizer.step()
            out["losses"].append(loss.item())
        scheduler.step()
        out["lr"].append(scheduler.get_last_lr()[0])
    model.eval()
    correct, test_loss, accuracies = 0, 0.0, []
    with torch.no_grad():
        for xb, yb in loader:
            logits = model(xb)
            accuracies.append((logits.argmax(dim=1) == yb).float().mean().item())
            test_loss += F.cross_entropy(logits, yb, reduction="sum").item()
            pred = logits.argmax(dim=1, keepdim=True)
            correct += pred.eq(yb.view_as(pred)).sum().item()
    out.update(accuracies=accuracies, correct=correct, test_loss=test_loss / len(loader.dataset),
               n_params=sum(p.numel() for p in model.parameters() if p.requires_grad),
               batch_type=type(next(iter(loader))).__name__, n_batches=len(loader),
               logits_requires_grad=logits.requires_grad, params=model.state_dict())
    return weights, out


def test_mlp_on_digits_with_dataloader_sgd_nesterov_and_steplr():
    expected, actual = run_both(mlp_script)
    assert expected["correct"] > 96  # it learned: more than half of the 192 rows after 12 steps


# ---------------------------------------------------------------- 2. a small CNN
def cnn_script(lib, weights):
    torch, nn, F, optim, data = lib.torch, lib.nn, lib.F, lib.optim, lib.data
    model = nn.Sequential(
        nn.Conv2d(1, 4, kernel_size=3, padding=1),
        nn.BatchNorm2d(4),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Dropout(p=0.0),
        nn.Flatten(),
        nn.Linear(4 * 4 * 4, 10),
    ).double()
    weights = start_from(model, weights)
    x = torch.tensor(X[:96]).view(-1, 1, 8, 8)
    y = torch.tensor(Y[:96])
    loader = data.DataLoader(data.TensorDataset(x, y), batch_size=32)
    optimizer = optim.Adam(model.parameters(), lr=1e-2, weight_decay=1e-4)
    out = {"losses": [], "norms": []}
    for epoch in range(2):
        model.train()
        for xb, yb in loader:
            optimizer.zero_grad()
            loss = F.cross_entropy(model(xb), yb, label_smoothing=0.1)
            loss.backward()
            out["norms"].append(nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0).item())
            optimizer.step()
            out["losses"].append(loss.item())
    model.eval()
    with torch.no_grad():
        probs = F.softmax(model(x), dim=1)
        confidence, pred = probs.max(dim=1)
    out.update(probs=probs, confidence=confidence, pred=pred, params=model.state_dict())
    return weights, out


def test_cnn_with_batchnorm_adam_clipping_and_label_smoothing():
    expected, _ = run_both(cnn_script)
    assert min(expected["norms"]) > 1.0  # the clipping acted on every step


# ---------------------------------------------------------------- 3. an LSTM classifier
_rng = np.random.default_rng(0)
TOKENS = _rng.integers(1, 20, size=(48, 7))
TOKENS[:8, :2] = 0  # padding
LABELS = (TOKENS.sum(1) % 2).astype(np.int64)


def lstm_script(lib, weights):
    torch, nn, optim, data = lib.torch, lib.nn, lib.optim, lib.data

    class Classifier(nn.Module):
        def __init__(self, vocab_size=20, embed_dim=8, hidden_dim=12, num_classes=2):
            super().__init__()
            self.embedding = nn.Embedding(vocab_size, embed_dim, padding_idx=0)
            self.lstm = nn.LSTM(embed_dim, hidden_dim, batch_first=True)
            self.fc = nn.Linear(hidden_dim, num_classes)

        def forward(self, x):
            emb = self.embedding(x)
            output, (h_n, c_n) = self.lstm(emb)
            return self.fc(h_n[-1])

    model = Classifier().double()
    weights = start_from(model, weights)
    loader = data.DataLoader(data.TensorDataset(torch.tensor(TOKENS), torch.tensor(LABELS)), batch_size=16)
    optimizer = optim.AdamW(model.parameters(), lr=1e-2, weight_decay=0.01)
    epochs = 2
    scheduler = optim.lr_scheduler.OneCycleLR(optimizer, max_lr=0.05, epochs=epochs, steps_per_epoch=len(loader))
    criterion = nn.CrossEntropyLoss()
    out = {"losses": [], "lrs": []}
    for epoch in range(epochs):
        for xb, yb in loader:
            optimizer.zero_grad()
            loss = criterion(model(xb), yb)
            loss.backward()
            optimizer.step()
            scheduler.step()
            out["losses"].append(loss.item())
            out["lrs"].append(optimizer.param_groups[0]["lr"])
    with torch.no_grad():
        output, (h_n, c_n) = model.lstm(model.embedding(torch.tensor(TOKENS[:4])))
    out.update(output=output, h_n=h_n, c_n=c_n, params=model.state_dict())
    return weights, out


def test_lstm_classifier_with_adamw_and_onecyclelr():
    run_both(lstm_script)


# ---------------------------------------------------------------- 3b. the features of longer training scripts
def training_features_script(lib, weights):
    torch, nn, F, optim, data = lib.torch, lib.nn, lib.F, lib.optim, lib.data

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.features = nn.Sequential(OrderedDict([("fc", nn.Linear(64, 16)), ("act", nn.ReLU())]))
            self.head = nn.Linear(16, 1)
            self.scale = nn.Parameter(torch.ones(1, dtype=torch.float64))
            self.register_buffer("offset", torch.zeros(1, dtype=torch.float64))

        def forward(self, x):
            h = F.dropout(self.features(x), p=0.5, training=False)
            return self.head(h).squeeze(1) * self.scale + self.offset

    model = Net().double()
    weights = start_from(model, weights)
    x = torch.tensor(X[:64]); y = (torch.tensor(Y[:64]) > 4).float().double()
    optimizer = optim.Adam([{"params": model.features.parameters(), "lr": 1e-2},
                            {"params": list(model.head.parameters()) + [model.scale]}], lr=1e-3)
    scheduler = optim.lr_scheduler.ReduceLROnPlateau(optimizer, mode="min", factor=0.5, patience=0)
    criterion = nn.BCEWithLogitsLoss(pos_weight=torch.tensor([2.0], dtype=torch.float64))
    loader = data.DataLoader(data.TensorDataset(x, y), batch_size=16)
    out = {"losses": [], "lrs": []}
    best, best_loss = None, float("inf")
    accumulation = 2
    for epoch in range(3):
        if epoch == 2:
            for p in model.features.parameters():
                p.requires_grad = False
        optimizer.zero_grad()
        for i, (xb, yb) in enumerate(loader):
            loss = criterion(model(xb), yb) / accumulation
            loss.backward()
            if (i + 1) % accumulation == 0:
                optimizer.step()
                optimizer.zero_grad()
            out["losses"].append(loss.item())
        val = criterion(model(x), y).item()
        scheduler.step(val if epoch != 1 else 10.0)
        out["lrs"].append([g["lr"] for g in optimizer.param_groups])
        if val < best_loss:
            best_loss, best = val, copy.deepcopy(model.state_dict())
    with torch.no_grad():
        probs = torch.sigmoid(model(x))
        preds = (probs > 0.5).long()
    out.update(probs=probs, preds=preds, best={k: np.asarray(v) for k, v in best.items()},
               trainable=sum(p.numel() for p in model.parameters() if p.requires_grad),
               names=[n for n, _ in model.named_parameters()], buffers=[n for n, _ in model.named_buffers()],
               params=model.state_dict(), opt_keys=list(optimizer.state_dict()))
    return weights, out


def test_param_groups_freezing_accumulation_plateau_and_best_weights():
    expected, _ = run_both(training_features_script)
    assert expected["lrs"][1] == [0.005, 0.0005]  # the plateau halved both groups' rates


# ---------------------------------------------------------------- 3c. a bidirectional GRU forecaster (regression)
SERIES = np.sin(np.linspace(0, 12, 80))[:, None] + 0.1 * np.random.default_rng(2).standard_normal((80, 1))


def forecaster_script(lib, weights):
    torch, nn, F, optim, data = lib.torch, lib.nn, lib.F, lib.optim, lib.data

    class Forecaster(nn.Module):
        def __init__(self, hidden=6):
            super().__init__()
            self.gru = nn.GRU(input_size=1, hidden_size=hidden, num_layers=2, batch_first=True, bidirectional=True)
            self.norm = nn.LayerNorm(2 * hidden)
            self.out = nn.Linear(2 * hidden, 1)

        def forward(self, x):
            output, h_n = self.gru(x)
            last = torch.cat((h_n[-2], h_n[-1]), dim=1)
            return self.out(self.norm(last) + output[:, -1])

    model = Forecaster().double()
    weights = start_from(model, weights)
    windows = np.stack([SERIES[i:i + 10] for i in range(60)])
    targets = SERIES[10:70]
    x, y = torch.tensor(windows), torch.tensor(targets).view(-1, 1)
    loader = data.DataLoader(data.TensorDataset(x, y), batch_size=20)
    optimizer = optim.RMSprop(model.parameters(), lr=1e-2, alpha=0.9, momentum=0.5)
    scheduler = optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=4, eta_min=1e-4)
    criterion = nn.MSELoss()
    out = {"losses": [], "lrs": []}
    for epoch in range(3):
        for xb, yb in loader:
            optimizer.zero_grad()
            loss = criterion(model(xb), yb)
            loss.backward()
            nn.utils.clip_grad_value_(model.parameters(), 0.5)
            optimizer.step()
            out["losses"].append(loss.item())
        scheduler.step()
        out["lrs"].append(scheduler.get_last_lr()[0])
    model.eval()
    with torch.no_grad():
        pred = model(x)
        mae = F.l1_loss(pred, y).item()
    out.update(pred=pred, mae=mae, params=model.state_dict())
    return weights, out


def test_bidirectional_gru_forecaster_with_rmsprop_and_cosine_schedule():
    run_both(forecaster_script)


# ---------------------------------------------------------------- 3d. a convolutional VAE with a residual block
EPS = np.random.default_rng(3).standard_normal((32, 4))


def vae_script(lib, weights):
    torch, nn, F, optim, data = lib.torch, lib.nn, lib.F, lib.optim, lib.data

    class Block(nn.Module):
        def __init__(self, channels):
            super().__init__()
            self.conv1 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
            self.bn1 = nn.BatchNorm2d(channels)
            self.conv2 = nn.Conv2d(channels, channels, 3, padding=1, groups=channels, bias=False)
            self.bn2 = nn.BatchNorm2d(channels)

        def forward(self, x):
            out = F.relu(self.bn1(self.conv1(x)))
            out = self.bn2(self.conv2(out))
            return F.relu(out + x)

    class VAE(nn.Module):
        def __init__(self):
            super().__init__()
            self.stem = nn.Conv2d(1, 4, kernel_size=3, stride=2, padding=1)
            self.block = Block(4)
            self.pool = nn.AdaptiveAvgPool2d((1, 1))
            self.mu = nn.Linear(4, 4)
            self.logvar = nn.Linear(4, 4)
            self.decode_fc = nn.Linear(4, 4 * 4 * 4)
            self.deconv = nn.ConvTranspose2d(4, 1, kernel_size=4, stride=2, padding=1)

        def forward(self, x, eps):
            h = self.pool(self.block(F.leaky_relu(self.stem(x), 0.1))).flatten(1)
            mu, logvar = self.mu(h), self.logvar(h)
            z = mu + eps * torch.exp(0.5 * logvar)
            d = self.decode_fc(z).view(-1, 4, 4, 4)
            d = F.interpolate(d, scale_factor=1, mode="nearest")
            return torch.sigmoid(self.deconv(d)), mu, logvar

    model = VAE().double()
    weights = start_from(model, weights)
    x = torch.tensor(X[:32]).view(-1, 1, 8, 8)
    eps = torch.tensor(EPS)
    optimizer = optim.SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=5e-4)
    scheduler = optim.lr_scheduler.MultiStepLR(optimizer, milestones=[2, 3], gamma=0.1)
    out = {"losses": []}
    for step in range(4):
        model.train()
        optimizer.zero_grad()
        recon, mu, logvar = model(x, eps)
        bce = F.binary_cross_entropy(recon, x, reduction="sum")
        kld = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
        loss = (bce + kld) / x.size(0)
        loss.backward()
        optimizer.step()
        scheduler.step()
        out["losses"].append(loss.item())
    model.eval()
    with torch.no_grad():
        recon, mu, _ = model(x, torch.zeros_like(eps))
    out.update(recon=recon, mu=mu, params=model.state_dict())
    return weights, out


def test_conv_vae_with_residual_block_and_multisteplr():
    expected, _ = run_both(vae_script)
    assert expected["losses"][-1] < expected["losses"][0]


# ---------------------------------------------------------------- 3e. the default float32, as most notebooks run
def float32_script(lib, weights):
    torch, nn, F, optim = lib.torch, lib.nn, lib.F, lib.optim

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(1, 3, 3, padding=1, bias=False)  # (a bias before BatchNorm gets only rounding noise)
            self.bn = nn.BatchNorm2d(3)
            self.rnn = nn.LSTM(8 * 3, 8, batch_first=True)
            self.fc = nn.Linear(8, 10)

        def forward(self, x):
            h = F.max_pool2d(F.relu(self.bn(self.conv(x))), kernel_size=(1, 8))  # (N, 3, 8, 1)
            seq = h.squeeze(-1).transpose(1, 2).repeat(1, 1, 8)  # 8 steps of 24 features
            output, (h_n, _) = self.rnn(seq)
            return self.fc(h_n[-1] + output.mean(dim=1))

    model = Net()
    weights = start_from(model, weights)
    x = torch.tensor(X[:32], dtype=torch.float32).view(-1, 1, 8, 8)
    y = torch.tensor(Y[:32])
    optimizer = optim.Adam(model.parameters(), lr=1e-2)
    losses = []
    for step in range(3):
        optimizer.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()
        losses.append(loss)
    grads = {name: p.grad for name, p in model.named_parameters()}
    out = model(x)  # (before state_dict(): PyTorch's values are live views, chainrule's a copy)
    return weights, dict(losses=losses, grads=grads, params=model.state_dict(), out=out)


def test_float32_training_stays_float32_and_agrees_to_float32_rounding():
    weights, expected = float32_script(TORCH, None)
    _, actual = float32_script(CHAINRULE, weights)
    expected, actual = plain(expected), plain(actual)
    for key in ["losses", "out"]:
        for e, a in zip(np.atleast_1d(expected[key]), np.atleast_1d(actual[key])):
            e, a = np.asarray(e), np.asarray(a)
            assert a.dtype == e.dtype == np.float32, f"{key}: {a.dtype}, PyTorch gives {e.dtype}"
            np.testing.assert_allclose(a, e, rtol=2e-4, atol=2e-5, err_msg=key)
    for group in ["grads", "params"]:
        for name, e in expected[group].items():
            a = np.asarray(actual[group][name])
            assert a.dtype == e.dtype, f"{group}[{name!r}]: {a.dtype}, PyTorch gives {e.dtype}"
            np.testing.assert_allclose(a, e, rtol=2e-3, atol=2e-4, err_msg=f"{group}[{name!r}]")


# ---------------------------------------------------------------- 4. tensor manipulation in notebooks
A = np.random.default_rng(1).standard_normal((4, 64))
IDX = np.array([[0, 3], [1, 2], [5, 5], [63, 0]])

# name -> f(torch, F, x): what a notebook computes on x (a 4x64 float64 tensor)
SNIPPETS = {
    "view": lambda torch, F, x: x.view(-1, 8, 8).view(-1, 64),
    "size": lambda torch, F, x: (x.size(0), x.size(-1), tuple(x.size()), tuple(x.shape), x.dim(), x.numel()),
    "permute": lambda torch, F, x: x.view(4, 1, 8, 8).permute(0, 2, 3, 1),
    "transpose": lambda torch, F, x: x.view(4, 8, 8).transpose(1, 2).contiguous().view(4, 64),
    "t_matmul": lambda torch, F, x: x.t() @ x,
    "cat": lambda torch, F, x: torch.cat([x, x * 2], dim=1),
    "stack": lambda torch, F, x: torch.stack([x, -x], dim=0),
    "unsqueeze_squeeze": lambda torch, F, x: (x.unsqueeze(1).shape, x[:, None].squeeze(1).shape, x[:, None].shape),
    "max_dim": lambda torch, F, x: tuple(x.max(dim=1)),
    "max_named": lambda torch, F, x: (x.max(dim=1).values, x.max(dim=1).indices, x.min(1)[1]),
    "max_all": lambda torch, F, x: (x.max().item(), x.argmax().item(), torch.max(x[0], x[1])),
    "sum_keepdim": lambda torch, F, x: (x.sum(dim=0, keepdim=True), x.sum(1), x.mean(dim=(0, 1))),
    "std_var": lambda torch, F, x: (x.std().item(), x.std(dim=1), x.var(dim=0, unbiased=False)),
    "where": lambda torch, F, x: (torch.where(x > 0, x, torch.zeros_like(x)), torch.where(x > 0, x, 0.0)),
    "masked_fill_softmax": lambda torch, F, x: F.softmax(x.masked_fill(x < 0, -1e9), dim=-1),
    "gather": lambda torch, F, x: x.gather(1, torch.tensor(IDX)),
    "einsum": lambda torch, F, x: (torch.einsum("ij,kj->ik", x, x),
                                   torch.einsum("bij,bjk->bik", x.view(4, 8, 8), x.view(4, 8, 8))),
    "boolean_index": lambda torch, F, x: (x[x > 1], x[torch.tensor([True, False, True, False])]),
    "fancy_index": lambda torch, F, x: (x[torch.tensor([0, 2]), torch.tensor([1, 3])], x[..., :2], x[-1, ::8]),
    "arange": lambda torch, F, x: (torch.arange(5), torch.arange(0, 1, 0.25), torch.arange(2, 10, 3)),
    "creation": lambda torch, F, x: (torch.zeros_like(x), torch.ones(2, 3, dtype=torch.long),
                                     torch.full((2, 2), 7.0), torch.eye(3), torch.linspace(0, 1, 5),
                                     torch.zeros((2, 3)).dtype, x.new_zeros(2)),
    "clone_detach": lambda torch, F, x: (x.clone().detach(), x.clone().detach().requires_grad),
    "item_tolist": lambda torch, F, x: (x[0, 0].item(), x[0, :3].tolist(), torch.tensor(3).item(),
                                        torch.tensor([1, 2]).tolist(), float(x[0, 0]), int(torch.tensor(3))),
    "numpy": lambda torch, F, x: (type(x.numpy()).__name__, x.detach().cpu().numpy()),
    "int_float_promotion": lambda torch, F, x: (
        (torch.tensor([1, 2]) + 0.5).dtype, torch.tensor([1, 2]) / 2, torch.tensor([5, -5]) // 2,
        (torch.tensor([1, 2]) * torch.tensor([1.5, 2.0])).dtype, torch.tensor([1, 2]).dtype,
        torch.tensor([1.0, 2.0]).dtype, (x > 0).sum().dtype, torch.tensor([1, 2]).float().dtype,
        torch.tensor([1, 2]).type_as(x).dtype, (torch.tensor([True]) + 1).dtype),
    "bool_reductions": lambda torch, F, x: ((x > 0).sum().item(), (x > 0).float().mean().item(),
                                            (x > 3).any().item(), (x > -9).all().item()),
    "sort_topk": lambda torch, F, x: (tuple(x.topk(3, dim=1)), x.sort(dim=1, descending=True)[1][:, :3],
                                      x.argsort(dim=1)[:, -1]),
    "split_chunk": lambda torch, F, x: ([c.shape for c in x.chunk(2, dim=1)], [c.shape for c in x.split(24, dim=1)]),
    "expand_repeat": lambda torch, F, x: (x[:, :1].expand(-1, 3), x[:1, :2].repeat(2, 3), x.flatten()),
    "clamp_abs_pow": lambda torch, F, x: (x.clamp(min=0), x.clamp(-0.5, 0.5), x.abs() ** 0.5, x.pow(2)),
    "norms": lambda torch, F, x: (x.norm().item(), x.norm(dim=1), F.normalize(x, dim=1),
                                  F.cosine_similarity(x[:2], x[2:], dim=1)),
    "functional": lambda torch, F, x: (F.one_hot(torch.tensor([0, 2]), num_classes=3), F.log_softmax(x, dim=1),
                                       F.relu(x), torch.sigmoid(x), torch.tanh(x), F.pad(x.view(4, 8, 8), (1, 1)),
                                       F.mse_loss(x, torch.zeros_like(x)),
                                       F.binary_cross_entropy_with_logits(x, (x > 0).to(x.dtype))),
    "methods": lambda torch, F, x: (x.add(1.0), x.sub(x, alpha=2), x.mul(3), x.div(2), x.neg(), x.matmul(x.t()),
                                    x.exp().log(), torch.tensor([5, -5]).div(2, rounding_mode="trunc"),
                                    torch.tensor([5, -5]).div(2, rounding_mode="floor")),
    "comparisons": lambda torch, F, x: (x.eq(x[0]), x.ne(0), x.lt(0), x.le(0), x.gt(0), x.ge(0),
                                        torch.eq(x, 0), torch.gt(x, 1)),
    "value_tests": lambda torch, F, x: (torch.isnan(x).any().item(), torch.isinf(torch.tensor([1.0, float("inf")])).tolist(),
                                        torch.isfinite(x).all().item(), torch.equal(x, x.clone()),
                                        torch.equal(x, x[:2]), torch.allclose(x, x + 1e-12), x.isnan().sum().item(),
                                        torch.logical_and(x > 0, x < 1), torch.logical_not(x > 0)),
    "in_place": lambda torch, F, x: (x.clone().fill_(2.0), x.clone().zero_(), x.clone().add_(1.0),
                                     x.clone().mul_(2), x.clone().clamp_(0, 1), x.clone().masked_fill_(x < 0, 0)),
    "setitem": lambda torch, F, x: _setitem(x.clone()),
    "round_sign": lambda torch, F, x: (torch.round(x * 10), torch.sign(x), torch.floor(x), x.ceil()),
    "cumsum_unique": lambda torch, F, x: (x.cumsum(dim=1), torch.unique(torch.tensor([3, 1, 3, 2]))),
    "nonzero_masked_select": lambda torch, F, x: ((x[0] > 1).nonzero(), torch.masked_select(x, x < 0)),
    "tril_triu": lambda torch, F, x: (torch.tril(torch.ones(3, 3)), torch.triu(torch.ones(3, 3), diagonal=1).bool()),
    "masks": lambda torch, F, x: (((x > 0) & (x < 1)).sum().item(), x[(x < -1) | (x > 1)], ~(x > 0),
                                  x.masked_fill(~((x > 0) ^ (x > 1)), 0.0)),
    "accumulate": lambda torch, F, x: _accumulate(torch, x),
    "iterate": lambda torch, F, x: ([row.shape for row in x], len(x), x.shape == (4, 64), x.dtype == torch.float64),
}


def _accumulate(torch, x):
    preds, correct = torch.tensor([]), 0
    for batch in x.split(3):
        preds = torch.cat([preds, batch.argmax(dim=1).float()])
        correct += (batch.argmax(dim=1) == 0).sum()
    return preds, correct.item()


def _setitem(z):
    z[z < 0] = 0.0
    z[0, :3] = 1.5
    z[1] = z[2]
    return z


@pytest.mark.parametrize("name", SNIPPETS)
def test_tensor_manipulation_snippet(name):
    expected = plain(SNIPPETS[name](torch, torch.nn.functional, torch.tensor(A)))
    actual = plain(SNIPPETS[name](cr, cr.nn.functional, cr.tensor(A)))
    assert_same(expected, actual, name)


def autograd_script(lib, weights):
    torch = lib.torch
    x = torch.tensor(A[:2, :3].copy(), requires_grad=True)
    y = (x ** 2 * torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64)).sum()
    y.backward()
    first = x.grad.clone()
    (x.exp() * 0.5).mean().backward()  # gradients accumulate
    accumulated = x.grad.clone()
    x.grad.zero_()
    z = torch.tensor([1.0, 2.0], dtype=torch.float64).requires_grad_()
    (z.sigmoid() * z).sum().backward()
    w = x.detach()
    return None, dict(first=first, accumulated=accumulated, zeroed=x.grad, z_grad=z.grad, y=y.item(),
                      leaf=(x.is_leaf, y.is_leaf, w.requires_grad, y.requires_grad, x.grad.requires_grad))


def test_autograd_basics():
    run_both(autograd_script)


@pytest.mark.parametrize("lib", [TORCH, CHAINRULE], ids=lambda lib: lib.name)
def test_manual_seed_reproducibility(lib):
    torch, nn = lib.torch, lib.nn

    def draw():
        torch.manual_seed(42)
        layer = nn.Linear(3, 2)
        return torch.randn(2, 3), torch.rand(4), torch.randint(0, 10, (5,)), torch.randperm(6), layer.weight

    first, second = [plain(draw()) for _ in range(2)]
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(plain(torch.randn(2, 3)), first[0])  # the generator moved on


# ---------------------------------------------------------------- 5. manual SGD (tutorial code)
def manual_sgd_script(lib, weights):
    torch, nn, F = lib.torch, lib.nn, lib.F
    model = nn.Sequential(nn.Linear(64, 16), nn.Tanh(), nn.Linear(16, 10)).double()
    weights = start_from(model, weights)
    x, y = torch.tensor(X[:64]), torch.tensor(Y[:64])
    lr = 0.5
    losses = []
    for step in range(3):
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        with torch.no_grad():
            for p in model.parameters():
                p -= lr * p.grad
                p.grad.zero_()
        losses.append(loss.item())
    for step in range(2):
        model.zero_grad()
        loss = F.nll_loss(F.log_softmax(model(x), dim=1), y)
        loss.backward()
        for p in model.parameters():
            p.data -= lr * p.grad  # works in both; p.data.add_(...) does not in chainrule (p.data is NumPy)
        losses.append(loss.item())
    for step in range(2):
        loss = F.cross_entropy(model(x), y)
        model.zero_grad()
        loss.backward()
        with torch.no_grad():
            for p in model.parameters():
                p.add_(p.grad, alpha=-lr)
        losses.append(loss.item())
    # raw tensors and requires_grad (the first tutorial)
    w = torch.tensor(weights["0.weight"][:10].T.copy(), requires_grad=True)
    b = torch.zeros(10, dtype=torch.float64, requires_grad=True)
    for step in range(3):
        loss = F.cross_entropy(x @ w + b, y)
        loss.backward()
        with torch.no_grad():
            w -= 0.1 * w.grad
            b -= 0.1 * b.grad
            w.grad.zero_()
            b.grad.zero_()
        losses.append(loss.item())
    return weights, dict(losses=losses, w=w, b=b, leaf=(w.is_leaf, w.requires_grad), params=model.state_dict())


def test_manual_sgd_loops():
    run_both(manual_sgd_script)


def test_data_is_a_numpy_array_so_torch_in_place_methods_on_it_fail_loudly():
    p = cr.nn.Linear(2, 2).weight
    assert isinstance(p.data, np.ndarray)
    with pytest.raises(AttributeError, match="add_"):
        p.data.add_(1.0)


# ---------------------------------------------------------------- 6. state_dict, saving and loading
ARCHITECTURES = {
    "mlp": lambda nn: nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Dropout(0.5), nn.Linear(8, 3)),
    "cnn": lambda nn: nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.MaxPool2d(2), nn.Flatten()),
    "conv1d": lambda nn: nn.Sequential(nn.Conv1d(2, 3, 3), nn.AdaptiveAvgPool1d(1)),
    "conv_transpose": lambda nn: nn.ConvTranspose2d(2, 3, 3, stride=2),
    "layer_norm": lambda nn: nn.Sequential(nn.Linear(4, 4), nn.LayerNorm(4), nn.GELU(), nn.PReLU()),
    "batch_norm1d": lambda nn: nn.BatchNorm1d(4),
    "lstm": lambda nn: nn.LSTM(4, 5, num_layers=2, bidirectional=True, batch_first=True),
    "gru": lambda nn: nn.GRU(4, 5, num_layers=2),
    "rnn": lambda nn: nn.RNN(4, 5),
    "embedding": lambda nn: nn.Embedding(10, 3),
    "module_list": lambda nn: nn.ModuleList([nn.Linear(2, 2), nn.Sequential(nn.Linear(2, 3), nn.Tanh())]),
}


@pytest.mark.parametrize("name", ARCHITECTURES)
def test_state_dict_keys_and_shapes_equal_torchs(name):
    torch_model, model = ARCHITECTURES[name](torch.nn), ARCHITECTURES[name](cr.nn)
    expected = {key: tuple(value.shape) for key, value in torch_model.state_dict().items()}
    actual = {key: tuple(np.shape(value)) for key, value in model.state_dict().items()}
    assert list(actual.items()) == list(expected.items())
    model.load_state_dict(torch_model.state_dict())  # torch's tensors load directly
    for key, value in torch_model.state_dict().items():
        np.testing.assert_array_equal(np.asarray(model.state_dict()[key]), value.numpy())


def save_load_script(lib, weights):
    torch, nn = lib.torch, lib.nn

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.features = nn.Sequential(nn.Linear(64, 16), nn.BatchNorm1d(16), nn.ReLU())
            self.head = nn.Linear(16, 10)

        def forward(self, x):
            return self.head(self.features(x))

    model = Net().double()
    weights = start_from(model, weights)
    model.train()
    model(torch.tensor(X[:32]))  # moves the running statistics
    model2 = Net().double()
    result = model2.load_state_dict(model.state_dict())
    model.eval()
    model2.eval()
    with torch.no_grad():
        same = torch.equal(model(torch.tensor(X[:8])), model2(torch.tensor(X[:8])))
    return weights, dict(keys=list(model.state_dict()), missing=list(result.missing_keys),
                         unexpected=list(result.unexpected_keys), same=same, state=model2.state_dict())


def test_load_state_dict_round_trip():
    run_both(save_load_script)


def resume_script(lib, weights):
    torch, nn, F, optim = lib.torch, lib.nn, lib.F, lib.optim

    def build():
        model = nn.Sequential(nn.Linear(64, 8), nn.ReLU(), nn.Linear(8, 10)).double()
        optimizer = optim.Adam(model.parameters(), lr=1e-2, weight_decay=1e-3)
        return model, optimizer, optim.lr_scheduler.ExponentialLR(optimizer, gamma=0.9)

    model, optimizer, scheduler = build()
    weights = start_from(model, weights)
    x, y = torch.tensor(X[:32]), torch.tensor(Y[:32])
    losses = []
    for step in range(4):
        if step == 2:  # checkpoint, then resume into fresh objects
            checkpoint = copy.deepcopy({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                                        "scheduler": scheduler.state_dict(), "epoch": step})
            model, optimizer, scheduler = build()
            model.load_state_dict(checkpoint["model"])
            optimizer.load_state_dict(checkpoint["optimizer"])
            scheduler.load_state_dict(checkpoint["scheduler"])
        optimizer.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()
        scheduler.step()
        losses.append(loss.item())
    state = optimizer.state_dict()
    return weights, dict(losses=losses, lr=scheduler.get_last_lr(), params=model.state_dict(),
                         optimizer_keys=list(state), state_keys=sorted(state["state"][0]),
                         step=float(state["state"][0]["step"]))


def test_checkpoint_and_resume_with_optimizer_and_scheduler_state():
    run_both(resume_script)


def test_saving_a_model_is_safetensors_and_json_not_pickle(tmp_path):
    model = cr.nn.Sequential(cr.nn.Linear(64, 16), cr.nn.ReLU(), cr.nn.Linear(16, 10)).double()
    path = tmp_path / "model.safetensors"
    cr.save(model, path)  # the equivalent of torch.save(model, path), and loadable without the code
    assert path.read_bytes()[8:9] == b"{"  # a safetensors header: 8-byte length, then JSON
    loaded = cr.load(path)
    x = cr.tensor(X[:4])
    np.testing.assert_array_equal(loaded(x).numpy(), model(x).numpy())
    rebuilt = cr.nn.Sequential(cr.nn.Linear(64, 16), cr.nn.ReLU(), cr.nn.Linear(16, 10)).double()
    cr.load_checkpoint(path, rebuilt)  # the equivalent of model.load_state_dict(torch.load(path))
    np.testing.assert_array_equal(rebuilt(x).numpy(), model(x).numpy())
    with pytest.raises(TypeError, match="state_dict"):
        cr.save(model.state_dict(), tmp_path / "weights.safetensors")  # torch.save(model.state_dict(), ...)
