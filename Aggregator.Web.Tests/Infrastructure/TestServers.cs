namespace Aggregator.Web.Tests.Infrastructure;

/// <summary>
/// The real PostgreSQL and Redis that ./test.sh starts on loopback ports and names in
/// AGG_TEST_POSTGRES (a server connection string) and AGG_TEST_REDIS (host:port).
/// </summary>
public static class TestServers
{
    public static string Postgres => Required("AGG_TEST_POSTGRES");
    public static string Redis => Required("AGG_TEST_REDIS");

    static string Required(string name) =>
        Environment.GetEnvironmentVariable(name) is { Length: > 0 } value
            ? value
            : throw new InvalidOperationException($"{name} is not set: run the tests with ./test.sh, which starts PostgreSQL and Redis.");
}
