// ASP.NET Core SignalR as a peer in the broadcast benchmark (bench/broadcast/run.ts).
// A hub at /hubs/events that clients only listen to, and HTTP endpoints through which the harness
// drives broadcasts the way it drives Node's servers over IPC: IHubContext.Clients.All.SendAsync,
// `batch` sends per turn, yielding to the thread pool after each batch.
// With BENCH_REDIS set (host:port) it is one node of a cluster on ASP.NET Core's Redis backplane
// (Microsoft.AspNetCore.SignalR.StackExchangeRedis), as bench/cluster/run.ts runs it; channels are
// prefixed with BENCH_REDIS_PREFIX so runs sharing one redis-server stay apart.
using System.Diagnostics;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.SignalR;
using RedisChannel = StackExchange.Redis.RedisChannel;

var builder = WebApplication.CreateBuilder(args);
builder.Logging.SetMinimumLevel(LogLevel.Warning);
var signalR = builder.Services.AddSignalR(options =>
{
    // Idle bench clients send nothing: long keep-alive and timeout, as for the Node hub.
    options.KeepAliveInterval = TimeSpan.FromMinutes(10);
    options.ClientTimeoutInterval = TimeSpan.FromMinutes(20);
});
var redis = Environment.GetEnvironmentVariable("BENCH_REDIS");
if (!string.IsNullOrEmpty(redis))
{
    var prefix = Environment.GetEnvironmentVariable("BENCH_REDIS_PREFIX") ?? "bench";
    signalR.AddStackExchangeRedis(redis, options => options.Configuration.ChannelPrefix = RedisChannel.Literal(prefix));
}
var app = builder.Build();
app.UseWebSockets();
// Stateful reconnect allowed, as the Switchboard hub allows it: the kill benchmark's official
// clients ask for it (as the page bridge does), so both servers see the same client behaviour.
app.MapHub<EventsHub>("/hubs/events", options => options.AllowStatefulReconnects = true);

var hub = app.Services.GetRequiredService<IHubContext<EventsHub>>();
var epoch = DateTime.UnixEpoch.Ticks;
double WallMs() => (DateTime.UtcNow.Ticks - epoch) / 10_000.0;

app.MapPost("/burst", (int count, int batch) =>
{
    _ = Task.Run(async () =>
    {
        var pending = new List<Task>(count);
        for (var sent = 0; sent < count;)
        {
            for (var i = 0; i < batch && sent < count; i++, sent++) pending.Add(hub.Clients.All.SendAsync("event", Payload.Make(sent, null)));
            await Task.Yield();
        }
        await Task.WhenAll(pending);
    });
    return Results.Accepted();
});

app.MapPost("/rate", async (int perSecond, int durationMs) =>
{
    var interval = 1000.0 / perSecond;
    var clock = Stopwatch.StartNew();
    var next = 0.0;
    var seq = 0;
    while (clock.Elapsed.TotalMilliseconds < durationMs)
    {
        while (next <= clock.Elapsed.TotalMilliseconds)
        {
            _ = hub.Clients.All.SendAsync("event", Payload.Make(seq++, WallMs()));
            next += interval;
        }
        var wait = next - clock.Elapsed.TotalMilliseconds;
        if (wait > 0) await Task.Delay(TimeSpan.FromMilliseconds(wait));
    }
    return Results.Ok(new { count = seq });
});

app.MapGet("/clients", () => Results.Ok(new { clients = EventsHub.Connected }));

app.MapGet("/memory", () =>
{
    GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
    GC.WaitForPendingFinalizers();
    GC.Collect();
    return Results.Ok(new { heapUsed = GC.GetTotalMemory(forceFullCollection: true), clients = EventsHub.Connected });
});

// Started by the harness with stdin a pipe: EOF means the harness is gone (even killed), so exit
// rather than outlive it holding its port and its output pipe.
if (Environment.GetEnvironmentVariable("BENCH_EXIT_ON_STDIN_EOF") == "1")
{
    _ = Task.Run(async () =>
    {
        using var stdin = Console.OpenStandardInput();
        var buffer = new byte[256];
        while (await stdin.ReadAsync(buffer) > 0) { }
        app.Lifetime.StopApplication();
    });
}

await app.StartAsync();
var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
// The harness reads this line for the port.
Console.WriteLine($"ready {new Uri(address).Port}");
await app.WaitForShutdownAsync();

/// <summary>The hub the bench clients connect to; it only counts them.</summary>
public sealed class EventsHub : Hub
{
    private static int connected;

    /// <summary>Connections currently open.</summary>
    public static int Connected => Volatile.Read(ref connected);

    public override Task OnConnectedAsync()
    {
        Interlocked.Increment(ref connected);
        return Task.CompletedTask;
    }

    public override Task OnDisconnectedAsync(Exception? exception)
    {
        Interlocked.Decrement(ref connected);
        return Task.CompletedTask;
    }
}

/// <summary>The ~200-byte event the Node servers broadcast, field for field.</summary>
public sealed record Payload(
    string Id, string Type, int Version, string Time, string Source, string CorrelationId, PayloadData Data, int Seq,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] double? SentAt)
{
    private static readonly PayloadData Order = new("o-42", "tea-sencha", 2);

    public static Payload Make(int seq, double? sentAt) =>
        new("5b0c1f7e-8d6a-4c1b-9f43-2a7d3e9b1c55", "order.placed", 1, "2026-11-23T10:00:00.000Z", "service:orders", "flow-42", Order, seq, sentAt);
}

/// <summary>The event's data.</summary>
public sealed record PayloadData(string OrderId, string Sku, int Quantity);
