"""Course machinery, kept apart from the analytics library.

- :mod:`crmlab.course.grading` builds the exercises' student copies and grading specs (otter
  assign format), checks that the student copies give nothing away, publishes them to
  ``notebooks/exercises/`` and grades a class into a folder of grades;
- :mod:`crmlab.course.sandbox` runs one submitted notebook in an isolated sandbox (Linux
  namespaces via ``unshare``, resource limits), :mod:`crmlab.course.runner` executes it in there
  and :mod:`crmlab.course.plain` carries its answers out as plain data;
- :mod:`crmlab.course.checker` runs the hidden tests on those answers in the grader's own process;
- :mod:`crmlab.course.gradebook` writes the class CSV, feedback, summary and gradebook exports;
- :mod:`crmlab.course.selfcheck` is the students' ``grader.check`` (format checks, no points);
- :mod:`crmlab.course.notebooks` re-executes notebooks deterministically (``make notebooks``)
  and holds the environment every course kernel runs in;
- :mod:`crmlab.course.translation` keeps the Chinese twins (中文版) of the notebooks and
  exercises in step with the English ones (``crmlab translate``);
- :mod:`crmlab.course.site` builds the course website offline (``make site``) and
  :mod:`crmlab.course.site_check` looks at it in a browser (``make site-check``).

Nothing here imports a topic module (``clv``, ``churn``, ...): the analytics library does not
depend on the course, and the course only reaches the library through the notebooks it runs
and the worlds it generates (``crmlab.synth``, ``crmlab.datasets``).

>>> from crmlab.course import notebooks
>>> notebooks.DETERMINISTIC_ENV["PYTHONHASHSEED"]
'0'
"""

__all__ = ["checker", "gradebook", "grading", "notebooks", "plain", "runner", "sandbox", "selfcheck", "site", "site_check",
           "translation"]
