"""The index tables shipped with the product, one TOML file each (format: ``rating.index.tree``)."""
