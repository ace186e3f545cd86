"""Lantern's event contracts: the only code the services share besides the runtime glue."""
