"""``python -m pnr.engine.run_all``: kept so the command keeps working; the code is
:mod:`flow.run_engine` (it runs signoff checks too, so it belongs to the flow layer above the
engine, see ``tests/test_layering.py``)."""

if __name__ == "__main__":
    import sys

    from flow.run_engine import main

    sys.exit(main())
