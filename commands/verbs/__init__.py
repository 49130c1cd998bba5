"""One module per /ecm verb; each registers itself with commands.registry.verb."""
