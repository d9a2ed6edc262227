"""What every stage shares about writing systems: scripts (`script`), the fold
of a word and the Arabic clitics (`fold`), tokens (`tokens`), the fold as a
pattern over raw text (`loose`), cross-script keys of names and numbers
(`keys`), language codes (`languages`) and the per-word caches (`tables`).
Nothing here imports a stage: the stages build on it."""
