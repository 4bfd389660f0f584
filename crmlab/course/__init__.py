"""Course machinery, kept apart from the analytics library (the course site: ``crmlab.course.site``)."""
