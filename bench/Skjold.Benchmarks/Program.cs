using System.Globalization;
using BenchmarkDotNet.Running;
using Skjold.Benchmarks;

// Usage:
//   dotnet run -c Release --project bench/Skjold.Benchmarks -- throughput [objects] [rounds]
//   dotnet build -c Release src/Skjold.Cli && dotnet run -c Release --project bench/Skjold.Benchmarks -- webhook [seconds] [skjold binary, e.g. artifacts/aot/skjold]
//   dotnet run -c Release --project bench/Skjold.Benchmarks -- audit sqlite|postgres [events] [senders]
//   dotnet run -c Release --project bench/Skjold.Benchmarks -- --filter '*Pss*'     (BenchmarkDotNet)
if (args.Length > 0 && args[0] == "snapshot-gen")
{
    // snapshot-gen TEAMS FILE: writes a generated cluster snapshot (3 teams: the shipped example; 500: the benchmark cluster).
    new Skjold.TestSupport.ClusterGenerator(int.Parse(args[1], CultureInfo.InvariantCulture)).WriteTo(args[2]);
    return 0;
}

if (args.Length > 0 && args[0] == "node-tree-gen" && !OperatingSystem.IsWindows())
{
    // node-tree-gen default|hardened|unusual DIR: writes a node filesystem tree for skjold node-check --root.
    _ = args[1] switch
    {
        "hardened" => Skjold.TestSupport.NodeTrees.Hardened(args[2]),
        "unusual" => Skjold.TestSupport.NodeTrees.UnusualPlaces(args[2]),
        _ => Skjold.TestSupport.NodeTrees.KubeadmDefault(args[2]),
    };
    return 0;
}

if (args.Length > 0 && args[0] == "detection")
{
    // detection [ROUNDS]: Falco's k8saudit rule file over the shared audit events, one thread.
    return DetectionBench.Run(args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 7);
}

if (args.Length > 0 && args[0] == "alerts-e2e")
{
    // alerts-e2e [RATE] [SECONDS]: audit events at RATE/s -> detection -> outbox -> a real rsyslog over TLS (Debian's rsyslog and rsyslog-gnutls).
    return await AlertE2eBench.RunAsync(args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 5_000, args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 20);
}

if (args.Length > 0 && args[0] == "supply-chain")
{
    // supply-chain [SECONDS]: bundle verification; admission with a warm verdict cache at 500/s vs /noop; cold verification against a real registry.
    return await SupplyChainBench.RunAsync(args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 10);
}

if (args.Length > 0 && args[0] == "netpol")
{
    return NetpolBench.Run(200, 25);
}

if (args.Length > 0 && args[0] == "hostile")
{
    // hostile [ROUNDS]: time and peak memory of skjold scan on hostile input (build src/Skjold.Cli in Release first).
    return await HostileInputBench.RunAsync(args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 3);
}

if (args.Length > 0 && args[0] == "posture")
{
    return await PostureBench.RunAsync(args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 520);
}

if (args.Length > 2 && args[0] == "sqlite-layout")
{
    return Skjold.Benchmarks.SqliteLayoutExp.Run(int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture), args[2]);
}

if (args.Length > 0 && args[0] == "audit-stages")
{
    return await AuditStages.RunAsync(args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 100_000);
}

if (args.Length > 1 && args[0] == "audit-verify")
{
    return await AuditBench.VerifyAsync(args[1], args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 3);
}

if (args.Length > 0 && args[0] == "audit")
{
    var backend = args.Length > 1 ? args[1] : "sqlite";
    var count = args.Length > 2 ? long.Parse(args[2], CultureInfo.InvariantCulture) : 1_000_000;
    var senders = args.Length > 3 ? int.Parse(args[3], CultureInfo.InvariantCulture) : 4;
    return await AuditBench.RunAsync(backend, count, senders);
}

if (args.Length > 0 && args[0] == "webhook")
{
    // webhook [SECONDS] [BINARY]: BINARY is the skjold to serve with (the AOT build, artifacts/aot/skjold); default the JIT build.
    var seconds = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 10;
    return await WebhookLoad.RunAsync([500, 1000, 2000], TimeSpan.FromSeconds(seconds), args.Length > 2 ? Path.GetFullPath(args[2]) : null);
}

if (args.Length > 0 && args[0] == "admission-allocations")
{
    return await AdmissionHandlerBenchmarks.PrintAllocationsAsync(args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 100_000).ConfigureAwait(false);
}

if (args.Length > 0 && args[0] == "experiments")
{
    return Experiments.Run(50_000);
}

if (args.Length > 0 && args[0] == "startup")
{
    return Skjold.Benchmarks.Startup.Run(args.Length > 1 ? Path.GetFullPath(args[1]) : Path.GetFullPath("artifacts/aot/skjold"), args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 21);
}

if (args.Length > 0 && args[0] == "issue16")
{
    // issue16 [AOT_BINARY]: every issue 16 measurement in one run, one section after the other on the
    // same machine: start-up, YAML/JSON throughput, peak memory, admission p99, posture.
    var aot = args.Length > 1 ? Path.GetFullPath(args[1]) : Path.GetFullPath("artifacts/aot/skjold");
    Console.WriteLine("## start-up");
    var failed = Skjold.Benchmarks.Startup.Run(aot, 11);
    Console.WriteLine("## throughput (50,000 objects)");
    failed |= Throughput.Run(50_000, 3);
    Console.WriteLine("## peak memory");
    failed |= await Skjold.Benchmarks.MemoryBench.RunAsync(File.Exists(aot) ? aot : null, 1).ConfigureAwait(false);
    Console.WriteLine("## admission (p99 against the no-op floor)");
    failed |= await WebhookLoad.RunAsync([1000, 2000], TimeSpan.FromSeconds(5), File.Exists(aot) ? aot : null).ConfigureAwait(false);
    Console.WriteLine("## posture");
    failed |= await PostureBench.RunAsync(520).ConfigureAwait(false);
    return failed;
}

if (args.Length > 0 && args[0] == "memory")
{
    return await Skjold.Benchmarks.MemoryBench.RunAsync(args.Length > 1 ? Path.GetFullPath(args[1]) : null, args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 3).ConfigureAwait(false);
}

if (args.Length > 0 && args[0] == "stages")
{
    return Stages.Run(args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 50_000);
}

if (args.Length > 0 && args[0] == "throughput")
{
    var objects = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 50_000;
    var rounds = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 7;
    return Throughput.Run(objects, rounds);
}

BenchmarkSwitcher.FromAssembly(typeof(PssBenchmarks).Assembly).Run(args);
return 0;
