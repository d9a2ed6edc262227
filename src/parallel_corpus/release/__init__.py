"""A built corpus becomes a release: publish, registry, diff, card,
Croissant, chart, Hub push, and `validate` for anyone's release."""
