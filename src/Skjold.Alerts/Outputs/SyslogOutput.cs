using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Skjold.Alerts.Formats;

namespace Skjold.Alerts.Outputs;

/// <summary>How a syslog output reaches its receiver.</summary>
public enum SyslogTransport
{
    /// <summary>TCP with TLS, RFC 5425 octet-counting framing (port 6514 by convention).</summary>
    Tls,

    /// <summary>TCP without TLS (loopback, or where explicitly allowed), the same framing.</summary>
    Tcp,

    /// <summary>UDP, one message per datagram (RFC 5426); nothing confirms delivery.</summary>
    Udp,
}

/// <summary>Settings of one syslog output.</summary>
public sealed record SyslogOutputSettings
{
    public required string Host { get; init; }

    public required int Port { get; init; }

    public SyslogTransport Transport { get; init; } = SyslogTransport.Tls;

    public SyslogMessageFormat Format { get; init; } = SyslogMessageFormat.Rfc5424;

    /// <summary>PEM CA certificates that may issue the receiver's certificate (default: the system's roots).</summary>
    public X509Certificate2Collection? TrustedCas { get; init; }

    /// <summary>The name the receiver's certificate must carry (default: <see cref="Host"/>).</summary>
    public string? ServerName { get; init; }

    /// <summary>A client certificate (with key) for receivers that require mutual TLS.</summary>
    public X509Certificate2? ClientCertificate { get; init; }

    public int Facility { get; init; } = 16; // local0

    public string Hostname { get; init; } = Environment.MachineName;

    public int EnterpriseNumber { get; init; } = SyslogFormatter.DefaultEnterpriseNumber;

    public int MaxMessageBytes { get; init; } = 8192;

    /// <summary>How long a written message must stay on a live connection before it counts as delivered.</summary>
    public TimeSpan ConfirmAfter { get; init; } = TimeSpan.FromSeconds(2);

    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(10);

    public TimeSpan WriteTimeout { get; init; } = TimeSpan.FromSeconds(30);
}

/// <summary>
/// Syslog to a SIEM: RFC 5424 (or CEF) messages over TLS (RFC 5425), plain TCP or UDP (RFC 5426).
/// Over TCP a write that succeeded proves only that the local kernel took the bytes; a receiver that
/// stops discards what it had not read. So each message counts as delivered only after the
/// connection has stayed up <see cref="SyslogOutputSettings.ConfirmAfter"/> past its write (a
/// receiver that closes makes the socket readable, which is checked), and a broken connection
/// makes the dispatcher send everything unconfirmed again.
/// </summary>
public sealed class SyslogOutput : IAlertOutput
{
    private readonly SyslogOutputSettings _settings;
    private readonly SyslogFormatter _formatter;
    private readonly TimeProvider _time;
    private readonly Queue<(long Seq, DateTimeOffset Written)> _unconfirmed = new();
    private Socket? _socket;
    private Stream? _stream;
    private long _confirmed;

    public SyslogOutput(string name, SyslogOutputSettings settings, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        Name = name;
        _settings = settings;
        _time = time ?? TimeProvider.System;
        _formatter = new SyslogFormatter(settings.Format, settings.Facility, settings.Hostname, settings.EnterpriseNumber, settings.MaxMessageBytes);
    }

    public string Name { get; }

    public async ValueTask<long> SendAsync(IReadOnlyList<OutboxEntry> entries, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(entries);
        if (entries.Count == 0)
        {
            return await ConfirmAsync(cancellationToken).ConfigureAwait(false);
        }

        try
        {
            await ConnectAsync(cancellationToken).ConfigureAwait(false);
            if (_settings.Transport == SyslogTransport.Udp)
            {
                foreach (var e in entries)
                {
                    await _socket!.SendAsync(_formatter.Format(e.Alert), SocketFlags.None, cancellationToken).ConfigureAwait(false);
                }

                _confirmed = entries[^1].Seq; // nothing more can be known over UDP
                return _confirmed;
            }

            ThrowIfClosedByPeer();
            using var buffer = new MemoryStream(entries.Count * 512);
            foreach (var e in entries)
            {
                var message = _formatter.Format(e.Alert);
                var prefix = Encoding.ASCII.GetBytes($"{message.Length} "); // RFC 5425 octet counting
                buffer.Write(prefix);
                buffer.Write(message);
            }

            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(_settings.WriteTimeout);
            await _stream!.WriteAsync(buffer.GetBuffer().AsMemory(0, (int)buffer.Length), timeout.Token).ConfigureAwait(false);
            await _stream.FlushAsync(timeout.Token).ConfigureAwait(false);
            var now = _time.GetUtcNow();
            foreach (var e in entries)
            {
                _unconfirmed.Enqueue((e.Seq, now));
            }

            return Confirm();
        }
        catch (Exception ex) when (ex is IOException or SocketException or AuthenticationException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            await ResetAsync().ConfigureAwait(false);
            throw new AlertDeliveryException($"syslog {_settings.Host}:{_settings.Port}: {ex.Message}", ex);
        }
    }

    public async ValueTask<long> ConfirmAsync(CancellationToken cancellationToken)
    {
        if (_unconfirmed.Count == 0)
        {
            return _confirmed;
        }

        try
        {
            ThrowIfClosedByPeer();
        }
        catch (IOException ex)
        {
            await ResetAsync().ConfigureAwait(false);
            throw new AlertDeliveryException($"syslog {_settings.Host}:{_settings.Port}: {ex.Message}", ex);
        }

        return Confirm();
    }

    private long Confirm()
    {
        var cutoff = _time.GetUtcNow() - _settings.ConfirmAfter;
        while (_unconfirmed.TryPeek(out var head) && head.Written <= cutoff)
        {
            _unconfirmed.Dequeue();
            _confirmed = head.Seq;
        }

        return _confirmed;
    }

    /// <summary>Whether anything written is still waiting to be confirmed.</summary>
    public bool HasUnconfirmed => _unconfirmed.Count > 0;

    private void ThrowIfClosedByPeer()
    {
        // A syslog receiver never writes to us: a readable socket means it closed (or reset) the connection.
        if (_socket is { } s && (s.Poll(0, SelectMode.SelectRead) || s.Poll(0, SelectMode.SelectError)))
        {
            throw new IOException("the receiver closed the connection");
        }
    }

    private async Task ConnectAsync(CancellationToken cancellationToken)
    {
        if (_socket is not null)
        {
            return;
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_settings.ConnectTimeout);
        var udp = _settings.Transport == SyslogTransport.Udp;
        var addresses = IPAddress.TryParse(_settings.Host, out var ip) ? [ip] : await Dns.GetHostAddressesAsync(_settings.Host, timeout.Token).ConfigureAwait(false);
        if (addresses.Length == 0)
        {
            throw new SocketException((int)SocketError.HostNotFound);
        }

        var socket = new Socket(addresses[0].AddressFamily, udp ? SocketType.Dgram : SocketType.Stream, udp ? ProtocolType.Udp : ProtocolType.Tcp);
        try
        {
            await socket.ConnectAsync(new IPEndPoint(addresses[0], _settings.Port), timeout.Token).ConfigureAwait(false);
            if (!udp)
            {
                socket.NoDelay = true;
                Stream stream = new NetworkStream(socket, ownsSocket: false);
                if (_settings.Transport == SyslogTransport.Tls)
                {
                    var ssl = new SslStream(stream, leaveInnerStreamOpen: false);
                    await ssl.AuthenticateAsClientAsync(TlsClient.Options(_settings.ServerName ?? _settings.Host, _settings.TrustedCas, _settings.ClientCertificate), timeout.Token).ConfigureAwait(false);
                    stream = ssl;
                }

                _stream = stream;
            }

            _socket = socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    public async ValueTask ResetAsync()
    {
        _unconfirmed.Clear();
        if (_stream is not null)
        {
            try
            {
                await _stream.DisposeAsync().ConfigureAwait(false);
            }
            catch (IOException)
            {
            }

            _stream = null;
        }

        _socket?.Dispose();
        _socket = null;
    }

    public ValueTask DisposeAsync() => ResetAsync();
}
