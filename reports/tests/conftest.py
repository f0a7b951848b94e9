"""Fixtures are in ``report_fixtures`` so tests can import its helpers too."""

from reports.tests.report_fixtures import workspace  # noqa: F401
