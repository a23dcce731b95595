"""Where tickets come from and where replies go: demo data now; e-mail and file imports build on it."""
