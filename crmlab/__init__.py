"""crmlab: a research and teaching kit for Customer Relationship Management analytics.

Every figure the kit produces comes from a SYNTHETIC company world
(:func:`crmlab.synth.generate_world`) whose planted parameters are known, or from
the real public datasets shipped in ``datasets/real``.
"""

__version__ = "0.1.0"

from .errors import CrmlabError  # noqa: E402

__all__ = ["CrmlabError", "__version__"]
