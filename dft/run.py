"""``python -m dft.run``: kept so the documented command (``make dft``, the nightly DFT stage)
keeps working; the code is :mod:`flow.run_dft` (it runs the flow's DFT task classes, so it
belongs to the flow layer above the DFT library, see ``tests/test_layering.py``)."""

if __name__ == "__main__":
    import sys

    from flow.run_dft import main

    sys.exit(main())
