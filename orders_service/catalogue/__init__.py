"""The catalogue: products, their variants (size, colour), prices, weights, and the stock orders reserve."""
