"""infrakit: provision and bootstrap the product's services, environment by environment."""
