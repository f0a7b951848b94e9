"""``python -m signoff.nightly``: kept so the documented command keeps working; the code is
:mod:`flow.nightly` (the flow layer sits above the signoff checks, see
``tests/test_layering.py``)."""

if __name__ == "__main__":
    import sys

    from flow.nightly import main

    sys.exit(main())
