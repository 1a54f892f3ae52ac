"""The vasa-kit app's entry point: `make demo`, or `python app.py`, then
http://127.0.0.1:7860. The app itself is the package `vasa_core.app` (one module a tab).

Environment: VASA_HOST and VASA_PORT (where it listens), VASA_DEVICE (cpu, cuda or auto:
where the models compute; a wrong name, or cuda without a GPU, stops it at once).
"""

from vasa_core.app import build_app, main

__all__ = ["build_app", "main"]

if __name__ == "__main__":
    main()
