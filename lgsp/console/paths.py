"""Where the console is mounted on the bus: imported by the console and by its mounting."""

PREFIX = "/console"
