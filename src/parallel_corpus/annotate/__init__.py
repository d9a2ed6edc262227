"""Human annotations: Label Studio tasks out, exports back in, checked, stored
under `annotations/`, and turned into the overrides the build applies."""
