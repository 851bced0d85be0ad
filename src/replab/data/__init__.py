"""Every dataset replab uses: small pure functions that return NumPy arrays."""
