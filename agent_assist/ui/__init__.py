"""The PySide6 front end: widgets and models over the Qt-free core."""
