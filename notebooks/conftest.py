"""Keep notebook runs under nbval deterministic (the kernel inherits this environment)."""

from crmlab.course.notebooks import DETERMINISTIC_ENV, apply_environ

# fixed hash seed, no progress bars, no interactive backends, the shipped world, one BLAS thread
apply_environ(DETERMINISTIC_ENV)

# nbval executes the course and research notebooks. The student copies of the exercises are
# blank by design (the grader runs them), and the Chinese twins carry the English notebooks'
# outputs, which tests/test_translation.py compares, so neither is executed again here.
collect_ignore_glob = ["exercises/*", "zh/*", "zh/research/*"]
