// RETURN 1 through neo4j-driver, the api and worker's Neo4j client, with NEO4J_URI, NEO4J_USERNAME and
// NEO4J_PASSWORD exactly as the containers receive them:
// `neo4j.driver(process.env.NEO4J_URI, neo4j.auth.basic(process.env.NEO4J_USERNAME, process.env.NEO4J_PASSWORD))`.
// executeQuery routes: with neo4j:// the driver first asks for a routing table, then runs the query on
// the writer it names. Prints {"one":1,"server":"<the address the query ran on>"}; exits 1 with the
// driver's error code and message on failure.
const neo4j = require("neo4j-driver");

const driver = neo4j.driver(
  process.env.NEO4J_URI,
  neo4j.auth.basic(process.env.NEO4J_USERNAME, process.env.NEO4J_PASSWORD),
  { connectionTimeout: 3000, maxTransactionRetryTime: 2000 },
);
driver
  .executeQuery("RETURN 1 AS one")
  .then(({ records, summary }) => {
    console.log(JSON.stringify({ one: records[0].get("one").toNumber(), server: summary.server.address }));
    return driver.close();
  })
  .catch((error) => {
    console.error(error.code ? `${error.code}: ${error.message}` : error.message);
    return driver.close().finally(() => process.exit(1));
  });
