"""Neo4j AuraDB: the managed backend of the graph store."""
