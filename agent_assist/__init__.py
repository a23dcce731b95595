"""Agent Assist: a desktop co-pilot for customer-support agents.

The package is split into a Qt-free core (``store``, ``knowledge``, ``assist``,
``channels``, ``config``, ``cli``) and a thin PySide6 layer in ``ui`` and ``app``.
"""

__version__ = "0.1.0"
APP_NAME = "Agent Assist"
APP_ID = "agent-assist"
