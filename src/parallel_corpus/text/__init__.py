"""What every stage shares about writing systems: cross-script keys of
names and numbers (`keys`)."""
