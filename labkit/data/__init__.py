"""Datasets as in-memory tensors.

Every loader returns an :class:`ImageSet`: images in ``[-1, 1]`` shaped ``(N, C, H, W)``,
integer labels, the class names, and a line saying where the data came from. Small
datasets live in memory, so training never decodes files on the hot path.
"""
from labkit.data.core import ImageSet, announce, mix_real_synthetic

__all__ = ["ImageSet", "announce", "mix_real_synthetic"]
