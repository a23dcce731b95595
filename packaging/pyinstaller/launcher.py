"""Entry point of the PyInstaller bundle: the same ``agent-assist`` command as the console script."""

from agent_assist.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
