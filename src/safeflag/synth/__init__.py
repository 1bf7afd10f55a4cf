"""A deterministic synthetic world for tests and benchmarks: a children's social care register
and ED attendances with realistic recording errors, and the ground truth that links them.

>>> from safeflag.synth import generate_world
>>> world = generate_world(children=10_000, attendances=50_000, seed=7)   # doctest: +SKIP

Every person is fictional (see :mod:`safeflag.synth.pools`).
"""

from .world import World, generate_world

__all__ = ["World", "generate_world"]
