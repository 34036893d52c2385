using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Skjold.Audit;
using Skjold.Audit.Signing;
using Skjold.Audit.Storage;
using Skjold.Engine.Policy;
using Skjold.Server.AuditReceiver;
using Skjold.Server.Hosting;
using Skjold.Kubernetes.Watch;
using Skjold.Server.Tls;

namespace Skjold.Server.Tests;

/// <summary>The /audit receiver over HTTPS on loopback, sealing into a real SQLite log.</summary>
public sealed class AuditReceiverTests : IAsyncLifetime
{
    private const string Token = "test-token-0123456789abcdef";
    private const string QueryToken = "auditor-token-fedcba9876543210";
    private string _dir = null!;
    private AuditKeys _keys = null!;
    private SqliteAuditStore _store = null!;
    private AuditLog _log = null!;
    private WebApplication _app = null!;
    private HttpClient _client = null!;
    private SelfSignedCertificates.Generated _certs = null!;
    private X509Certificate2 _clientCa = null!;
    private X509Certificate2 _clientCert = null!;

    public async Task InitializeAsync()
    {
        _dir = Directory.CreateTempSubdirectory("skjold-recv-").FullName;
        _keys = AuditKeys.Create(_dir);
        _store = new SqliteAuditStore(_dir);
        await _store.InitializeAsync(default);
        _log = new AuditLog(_store, _keys);
        await _log.StartAsync(default);
        _certs = SelfSignedCertificates.Create("skjold", "skjold-system", TimeProvider.System);
        (_clientCa, _clientCert) = ClientCertificates();
        var options = new ServeOptions
        {
            Listen = new Uri("https://127.0.0.1:0"),
            Certificate = ServerCertificate.FromCertificate(_certs.Server, NullLogger.Instance),
            EnableAdmission = false,
        };
        _app = ServerHost.Build(options, ScanPolicy.Default, _ => new FileNamespaceCache(), logging: b => b.SetMinimumLevel(LogLevel.Warning),
            audit: _log, auditOptions: new AuditReceiverOptions { Token = Token, QueryToken = QueryToken, ClientCa = _clientCa, MaxBodyBytes = 1024 * 1024 });
        await _app.StartAsync();
        _client = new HttpClient(WebhookServer.TrustingHandler(_certs.CaPem)) { BaseAddress = ServerHost.BoundAddress(_app) };
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
        await _log.DisposeAsync();
        await _store.DisposeAsync();
        _keys.Dispose();
        Directory.Delete(_dir, true);
    }

    private static string EventJson(string id, string apiVersion = "audit.k8s.io/v1") => $$"""
        {"kind":"Event","apiVersion":"{{apiVersion}}","level":"Metadata","auditID":"{{id}}","stage":"ResponseComplete","requestURI":"/api/v1/namespaces/shop/secrets/db",
         "verb":"get","user":{"username":"alice","groups":["dev"]},"sourceIPs":["10.1.2.3"],
         "objectRef":{"resource":"secrets","namespace":"shop","name":"db","apiVersion":"v1"},"responseStatus":{"code":200},
         "requestReceivedTimestamp":"2026-11-24T09:00:00.000000Z","stageTimestamp":"2026-11-24T09:00:00.001000Z"}
        """;

    private static string EventList(params string[] events) =>
        $"{{\"kind\":\"EventList\",\"apiVersion\":\"audit.k8s.io/v1\",\"metadata\":{{}},\"items\":[{string.Join(",", events)}]}}";

    private async Task<HttpResponseMessage> PostAsync(string body, string? token = Token, HttpClient? client = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/audit") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        return await (client ?? _client).SendAsync(request);
    }

    private async Task<List<string?>> StoredIdsAsync()
    {
        var ids = new List<string?>();
        await foreach (var (r, _) in _store.QueryAsync(new AuditQuery { Limit = 10_000 }, false, default))
        {
            ids.Add(r.AuditId);
        }

        return ids;
    }

    [Fact]
    public async Task OversizedBatch_SentChunked_Gets413_NothingStored()
    {
        // No Content-Length: the shared bounded reader stops at the limit (1 MiB here) while reading.
        var events = string.Join(",", Enumerable.Range(0, 2_500).Select(i => EventJson($"big-{i}")));
        var bytes = Encoding.UTF8.GetBytes(EventList(events));
        Assert.True(bytes.Length > 1024 * 1024);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/audit") { Content = new StreamContent(new ChunkedOnly(bytes)) };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Token);
        request.Headers.TransferEncodingChunked = true;
        using var response = await _client.SendAsync(request);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Empty(await StoredIdsAsync());
    }

    /// <summary>A stream whose length HttpClient cannot know, so the body goes chunked.</summary>
    private sealed class ChunkedOnly(byte[] data) : MemoryStream(data)
    {
        public override bool CanSeek => false;
    }

    [Fact]
    public async Task ComposedHost_WithInvalidReceiverOptions_FailsOnStart_NamingEveryProblem()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Services.AddSkjoldAuditReceiver(_log, new AuditReceiverOptions { Token = "short", QueryToken = "short" });
        await using var app = builder.Build();
        app.MapSkjoldAuditReceiver();
        var ex = await Assert.ThrowsAsync<Microsoft.Extensions.Options.OptionsValidationException>(() => app.StartAsync());
        Assert.Contains("Token: the audit bearer token must be at least 16 characters", ex.Failures);
        Assert.Contains("QueryToken: the audit query token must be at least 16 characters", ex.Failures);
        Assert.Contains("QueryToken: the audit query token must differ from the token the API server sends", ex.Failures);
    }

    [Fact]
    public async Task EventList_StoredDurablyBeforeOk_AndVerifies()
    {
        using var response = await PostAsync(EventList(EventJson("a1"), EventJson("a2", "audit.k8s.io/v1beta1")));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        // 200 means durable: the events are in the store when the answer arrives.
        Assert.Equal(["a1", "a2"], await StoredIdsAsync());
        using var single = await PostAsync(EventJson("a3"));
        Assert.Equal(HttpStatusCode.OK, single.StatusCode);
        await _log.SignNowAsync(default);
        using var v = new TreeHeadVerifier(_keys.PublicKeyPem);
        Assert.True((await AuditVerifier.VerifyStoreAsync(_store, v, null, default)).Ok);
    }

    private async Task<HttpResponseMessage> GetAsync(string path, string? token = QueryToken, string? accept = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        if (accept is not null)
        {
            request.Headers.Accept.ParseAdd(accept);
        }

        return await _client.SendAsync(request);
    }

    [Fact]
    public async Task ReadApi_AnswersQueriesAndNamedQuestions_AsJsonAndCsv_OnlyWithItsOwnToken()
    {
        var bob = EventJson("q2").Replace("\"alice\"", "\"bob\"", StringComparison.Ordinal).Replace("\"code\":200", "\"code\":403", StringComparison.Ordinal);
        using (var posted = await PostAsync(EventList(EventJson("q1"), bob, EventJson("q3"))))
        {
            Assert.Equal(HttpStatusCode.OK, posted.StatusCode);
        }

        using var byUser = await GetAsync("/audit/events?user=alice&order=desc");
        Assert.Equal(HttpStatusCode.OK, byUser.StatusCode);
        Assert.StartsWith("application/json", byUser.Content.Headers.ContentType!.ToString(), StringComparison.Ordinal);
        using (var doc = System.Text.Json.JsonDocument.Parse(await byUser.Content.ReadAsStringAsync()))
        {
            Assert.Equal(["q3", "q1"], doc.RootElement.EnumerateArray().Select(e => e.GetProperty("auditId").GetString()));
        }

        using var denied = await GetAsync("/audit/events?denied&format=csv");
        var csv = (await denied.Content.ReadAsStringAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("index,time,verb,user,groups,sourceIp,resource,subresource,namespace,name,code,auditId", csv[0]);
        Assert.EndsWith(",403,q2", Assert.Single(csv[1..]), StringComparison.Ordinal);

        using var secret = await GetAsync("/audit/events?who-read-secret=shop/db&since=2026-11-24T00:00:00Z", accept: "text/csv");
        Assert.StartsWith("text/csv", secret.Content.Headers.ContentType!.ToString(), StringComparison.Ordinal);
        Assert.Equal(4, (await secret.Content.ReadAsStringAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);

        // Bad input is a 400 that says what is wrong; the API server's token and no token are 401.
        using var badTime = await GetAsync("/audit/events?since=yesterday-ish");
        Assert.Equal(HttpStatusCode.BadRequest, badTime.StatusCode);
        Assert.Contains("since", await badTime.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        using var unknown = await GetAsync("/audit/events?usr=alice");
        Assert.Equal(HttpStatusCode.BadRequest, unknown.StatusCode);
        Assert.Contains("unknown parameter 'usr'", await unknown.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        using var tooMany = await GetAsync("/audit/events?limit=1000000");
        Assert.Equal(HttpStatusCode.BadRequest, tooMany.StatusCode);
        using var ingestToken = await GetAsync("/audit/events", token: Token);
        Assert.Equal(HttpStatusCode.Unauthorized, ingestToken.StatusCode);
        using var none = await GetAsync("/audit/events", token: null);
        Assert.Equal(HttpStatusCode.Unauthorized, none.StatusCode);
    }

    [Fact]
    public async Task ReadApi_InclusionProof_VerifiesAgainstTheSignedTreeHead()
    {
        using (var posted = await PostAsync(EventList([.. Enumerable.Range(0, 21).Select(i => EventJson("p" + i))])))
        {
            Assert.Equal(HttpStatusCode.OK, posted.StatusCode);
        }

        using var response = await GetAsync("/audit/proof/13");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var doc = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var r = doc.RootElement;
        var head = r.GetProperty("treeHead");
        var size = head.GetProperty("size").GetInt64();
        var root = Convert.FromBase64String(head.GetProperty("root").GetString()!);
        var proof = r.GetProperty("proof").EnumerateArray().Select(p => Convert.FromBase64String(p.GetString()!)).ToList();
        var leaf = Convert.FromBase64String(r.GetProperty("leafHash").GetString()!);
        Assert.Equal(21, size);
        Assert.True(Skjold.Audit.Merkle.MerkleTree.VerifyInclusion(13, size, leaf, proof, root));
        Assert.False(Skjold.Audit.Merkle.MerkleTree.VerifyInclusion(12, size, leaf, proof, root));
        using var verifier = new TreeHeadVerifier(_keys.PublicKeyPem);
        var sth = new SignedTreeHead(size, DateTimeOffset.FromUnixTimeMilliseconds(head.GetProperty("timestampMs").GetInt64()), root,
            Convert.FromBase64String(head.GetProperty("signature").GetString()!), head.GetProperty("keyId").GetString()!)
        {
            Extension = Convert.FromBase64String(head.GetProperty("extension").GetString()!), // version 2: chained, and covering the sealed query index
        };
        Assert.Equal(2, head.GetProperty("version").GetInt32());
        Assert.True(verifier.Verify(sth));
        Assert.False(verifier.Verify(sth with { Extension = null }));
        Assert.True(r.GetProperty("verified").GetBoolean());

        // The log keeps extending the tree an auditor saw at 21 leaves.
        using (var more = await PostAsync(EventList([.. Enumerable.Range(0, 9).Select(i => EventJson("more" + i))])))
        {
            Assert.Equal(HttpStatusCode.OK, more.StatusCode);
        }

        using var consistency = await GetAsync("/audit/consistency/21");
        Assert.Equal(HttpStatusCode.OK, consistency.StatusCode);
        using (var c = System.Text.Json.JsonDocument.Parse(await consistency.Content.ReadAsStringAsync()))
        {
            var newHead = c.RootElement.GetProperty("treeHead");
            var newSize = newHead.GetProperty("size").GetInt64();
            Assert.Equal(30, newSize);
            Assert.Equal(Convert.ToBase64String(root), c.RootElement.GetProperty("oldRoot").GetString());
            var cproof = c.RootElement.GetProperty("proof").EnumerateArray().Select(p => Convert.FromBase64String(p.GetString()!)).ToList();
            Assert.True(Skjold.Audit.Merkle.MerkleTree.VerifyConsistency(21, newSize, root, Convert.FromBase64String(newHead.GetProperty("root").GetString()!), cproof));
        }

        using var tooBig = await GetAsync("/audit/consistency/31");
        Assert.Equal(HttpStatusCode.NotFound, tooBig.StatusCode);

        using var missing = await GetAsync("/audit/proof/30");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        using var notANumber = await GetAsync("/audit/proof/-1");
        Assert.Equal(HttpStatusCode.BadRequest, notANumber.StatusCode);
        using var unauthenticated = await GetAsync("/audit/proof/1", token: null);
        Assert.Equal(HttpStatusCode.Unauthorized, unauthenticated.StatusCode);
    }

    [Fact]
    public void ReceiverOptions_RefuseAQueryTokenEqualToTheApiServers()
    {
        var same = new AuditReceiverOptions { Token = Token, QueryToken = Token };
        Assert.Contains("differ", Assert.Throws<ArgumentException>(same.Validate).Message, StringComparison.Ordinal);
        var shortToken = new AuditReceiverOptions { Token = Token, QueryToken = "short" };
        Assert.Throws<ArgumentException>(shortToken.Validate);
    }

    [Fact]
    public async Task LargeBatchWithoutLength_ReadInFull()
    {
        // 600 events (about 300 KB) sent chunked, without Content-Length: the pooled body buffer grows.
        var ids = Enumerable.Range(0, 600).Select(i => "large-" + i.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/audit") { Content = new UnsizedContent(Encoding.UTF8.GetBytes(EventList([.. ids.Select(id => EventJson(id))]))) };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Token);
        using var response = await _client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(ids, await StoredIdsAsync());
    }

    /// <summary>A body whose length is not known in advance (sent chunked, or as HTTP/2 data frames).</summary>
    private sealed class UnsizedContent(byte[] bytes) : HttpContent
    {
        protected override async Task SerializeToStreamAsync(Stream stream, System.Net.TransportContext? context)
        {
            for (var at = 0; at < bytes.Length; at += 7000)
            {
                await stream.WriteAsync(bytes.AsMemory(at, Math.Min(7000, bytes.Length - at)));
                await stream.FlushAsync();
            }
        }

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }

    [Fact]
    public async Task Unauthenticated_Gets401_AndNothingIsStored()
    {
        using var none = await PostAsync(EventList(EventJson("x1")), token: null);
        Assert.Equal(HttpStatusCode.Unauthorized, none.StatusCode);
        using var wrong = await PostAsync(EventList(EventJson("x2")), token: "not-the-token-0123456789");
        Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        Assert.Empty(await StoredIdsAsync());
    }

    [Fact]
    public async Task ClientCertificate_Authenticates()
    {
        var handler = WebhookServer.TrustingHandler(_certs.CaPem);
        handler.ClientCertificates.Add(_clientCert);
        using var client = new HttpClient(handler) { BaseAddress = _client.BaseAddress };
        using var response = await PostAsync(EventList(EventJson("c1")), token: null, client: client);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(["c1"], await StoredIdsAsync());
    }

    [Fact]
    public async Task MalformedBody_Gets400_BadItemsRecorded_OversizedGets413()
    {
        using var bad = await PostAsync("{not json");
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        using var mixed = await PostAsync(EventList(EventJson("m1"), "{\"kind\":0}"));
        Assert.Equal(HttpStatusCode.OK, mixed.StatusCode);
        var ids = await StoredIdsAsync();
        Assert.Contains("m1", ids);
        var rejected = new List<string?>();
        await foreach (var (r, _) in _store.QueryAsync(new AuditQuery { Verbs = ["ingest-rejected"] }, false, default))
        {
            rejected.Add(r.Verb);
        }

        Assert.Single(rejected);
        var big = EventList(Enumerable.Range(0, 3000).Select(i => EventJson("big" + i)).ToArray());
        using var request = new HttpRequestMessage(HttpMethod.Post, "/audit")
        {
            Content = new StringContent(big, Encoding.UTF8, "application/json"),
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Token);
        using var tooBig = await _client.SendAsync(request);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, tooBig.StatusCode);
    }

    private static (X509Certificate2 Ca, X509Certificate2 Client) ClientCertificates()
    {
        using var caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var caReq = new CertificateRequest("CN=apiserver client CA", caKey, HashAlgorithmName.SHA256);
        caReq.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        caReq.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign, true));
        var ca = caReq.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var req = new CertificateRequest("CN=kube-apiserver", key, HashAlgorithmName.SHA256);
        req.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.2")], false));
        using var signed = req.Create(ca, DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(10), [1, 2, 3, 4]);
        var client = X509CertificateLoader.LoadPkcs12(signed.CopyWithPrivateKey(key).Export(X509ContentType.Pkcs12), null);
        return (X509CertificateLoader.LoadCertificate(ca.Export(X509ContentType.Cert)), client);
    }
}

/// <summary>Admission decisions handed to the audit trail.</summary>
public sealed class AuditDecisionSinkTests
{
    [Fact]
    public async Task Decisions_AreSealedIntoTheAuditLog()
    {
        var dir = Directory.CreateTempSubdirectory("skjold-decisions-").FullName;
        try
        {
            using var keys = AuditKeys.Create(dir);
            await using var store = new SqliteAuditStore(dir);
            await store.InitializeAsync(default);
            await using var log = new AuditLog(store, keys);
            await log.StartAsync(default);
            var sink = new AuditDecisionSink(log);
            await using (var server = await WebhookServer.StartAsync(decisionSink: sink))
            {
                const string pod = """
                    apiVersion: v1
                    kind: Pod
                    metadata: {name: bad, namespace: baseline-ns}
                    spec:
                      containers: [{name: c, image: "a:1", securityContext: {privileged: true}}]
                    """;
                await server.ReviewAsync("/validate", WebhookServer.Review(pod, "baseline-ns", uid: "decided-1", username: "bob"));
            }

            await sink.DisposeAsync();
            var found = new List<Skjold.Audit.Events.AuditRecord>();
            await foreach (var (r, _) in store.QueryAsync(new AuditQuery { Verbs = ["admission"] }, false, default))
            {
                found.Add(r);
            }

            var record = Assert.Single(found);
            Assert.Equal("bob", record.Username);
            Assert.Equal(403, record.Code);
            Assert.Equal("bad", record.Name);
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(dir, true);
        }
    }
}
