"""Course machinery, kept apart from the analytics library.

- :mod:`crmlab.course.grading` builds the exercises' student copies and autograders, checks
  that they give nothing away, and grades a class offline (otter-grader, no Docker);
- :mod:`crmlab.course.notebooks` re-executes notebooks deterministically (``make notebooks``)
  and holds the environment every course kernel runs in;
- :mod:`crmlab.course.site` builds the course website offline (``make site``) and
  :mod:`crmlab.course.site_check` looks at it in a browser (``make site-check``).

Nothing here imports a topic module (``clv``, ``churn``, ...): the analytics library does not
depend on the course, and the course only reaches the library through the notebooks it runs
and the worlds it generates (``crmlab.synth``, ``crmlab.datasets``).

>>> from crmlab.course import notebooks
>>> notebooks.DETERMINISTIC_ENV["PYTHONHASHSEED"]
'0'
"""

__all__ = ["grading", "notebooks", "site", "site_check"]
