"""Runtime glue shared by every service: never domain rules, never another service's code."""
