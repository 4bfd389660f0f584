"""Keep notebook runs under nbval deterministic (the kernel inherits this environment)."""

from crmlab.course.notebooks import DETERMINISTIC_ENV, apply_environ

# fixed hash seed, no progress bars, no interactive backends, the shipped world, one BLAS thread
apply_environ(DETERMINISTIC_ENV)
