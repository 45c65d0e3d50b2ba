// SELECT 1 through node-postgres (`pg`), with the URL exactly as the api and worker pass it:
// `new Client({ connectionString: process.env.DATABASE_URL })`. Prints {"one":1,"tls":true|false};
// exits 1 with pg's error code and message on failure. Nothing is added to the URL, and no CA is
// trusted beyond Node's own store: what the URL says about TLS is what is under test.
const { Client } = require("pg");

const client = new Client({ connectionString: process.env.DATABASE_URL, connectionTimeoutMillis: 5000 });
client
  .connect()
  .then(() => client.query("SELECT 1 AS one, (SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()) AS tls"))
  .then((result) => {
    console.log(JSON.stringify(result.rows[0]));
    return client.end();
  })
  .catch((error) => {
    console.error(error.code ? `${error.code}: ${error.message}` : error.message);
    process.exit(1);
  });
