"""CDK constructs, one module per service backend. They take typed props and never read
files or the process environment."""
