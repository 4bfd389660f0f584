"""The synthetic company world with planted truth.

>>> from crmlab.synth import generate_world
>>> world = generate_world(seed=7, n_customers=400, months=24)
>>> world.truth["bgnbd"]["r"]
0.75
"""

from .generate import DEFAULT_SEED, MONTH_DAYS, SURVEY_ITEMS, acsi_structure, generate_world
from .params import BRANCHES, CATEGORIES, SEGMENTS, WorldParams
from .world import TABLE_NAMES, World

__all__ = [
    "generate_world", "World", "WorldParams", "DEFAULT_SEED", "MONTH_DAYS", "SURVEY_ITEMS",
    "TABLE_NAMES", "BRANCHES", "SEGMENTS", "CATEGORIES", "acsi_structure",
]
