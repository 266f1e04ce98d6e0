"""Diagnosis of training problems that live inside the network: gradient health per time step and layer."""

from .gradient_health import GradientHealth

__all__ = ["GradientHealth"]
