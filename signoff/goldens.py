"""``python -m signoff.goldens``: kept so the documented command keeps working; the code is
:mod:`flow.goldens` (the flow layer sits above the signoff checks, see
``tests/test_layering.py``)."""

if __name__ == "__main__":
    import sys

    from flow.goldens import main

    sys.exit(main())
