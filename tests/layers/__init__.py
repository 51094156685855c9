"""Layer tests: one file per layer, plus the contracts every layer shares (layouts,
options, serialisation, TFLite). Inputs and numpy references: `common`."""
