"""Lantern's command line: start the whole system, try it, and operate it."""
