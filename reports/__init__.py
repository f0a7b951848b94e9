"""PPA dashboard: static HTML over the runs under ``build/`` and the nightly history.

``python -m reports.dashboard`` (``make report``) writes ``reports/out/index.html``. The modules
each do one job: :mod:`reports.collect` reads run outputs, :mod:`reports.ppa` turns them into the
PPA table, :mod:`reports.plots` and :mod:`reports.layout` draw pictures, :mod:`reports.dashboard`
renders the pages, :mod:`reports.browser` checks them in headless Chromium.
"""
