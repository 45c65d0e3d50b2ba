// PING through ioredis, the client BullMQ uses, with the URL exactly as a worker would pass it:
// `new Redis(process.env.REDIS_URL)`. Prints the reply; exits 1 with ioredis's message on failure.
// REDIS_CA (optional) is the CA to trust for rediss:// in tests; nothing else is added to the URL.
const fs = require("fs");
const Redis = require("ioredis");

const options = { lazyConnect: true, connectTimeout: 3000, maxRetriesPerRequest: 0, retryStrategy: () => null };
if (process.env.REDIS_CA) options.tls = { ca: fs.readFileSync(process.env.REDIS_CA) };
const client = new Redis(process.env.REDIS_URL, options);
client.on("error", () => {}); // reported through the rejected command below
client
  .connect()
  .then(() => client.ping())
  .then((reply) => {
    console.log(reply);
    client.disconnect();
  })
  .catch((error) => {
    console.error(error.message);
    client.disconnect();
    process.exit(1);
  });
