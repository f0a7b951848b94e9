"""The flow layer: the SiliconCompiler project and tasks (:mod:`flow.project`,
:mod:`flow.tasks`), the command line (:mod:`flow.cli`, ``siliconcompiler.py``), the run summary
``signoff.json`` (:mod:`flow.summary`), signoff re-runs (:mod:`flow.check`), the golden checks
(:mod:`flow.goldens`) and the nightly regression (:mod:`flow.nightly`).

It sits on top of the step libraries (``pnr.engine``, ``signoff``, ``dft``) and the core
(``gptnano``); nothing below imports it (``tests/test_layering.py``).
"""
