using System.Diagnostics;

namespace Skjold.TestSupport;

/// <summary>
/// Writes node filesystem trees for <c>skjold node-check --root</c>: a kubeadm control-plane node
/// as kubeadm leaves it, the same node hardened, and a node whose kubelet and static pods live in
/// unusual places. Modes are set as given; owners come from the tree's own /etc/passwd and
/// /etc/group (files are created by the current user, root in CI; the etcd data directory is
/// given to the tree's etcd user).
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class NodeTrees(string root)
{
    public const int EtcdUid = 4242;

    public string Root { get; } = root;

    public static NodeTrees KubeadmDefault(string root)
    {
        var t = new NodeTrees(root);
        t.Base();
        t.ApiServer("/etc/kubernetes/manifests", hardened: false);
        t.ControlPlane("/etc/kubernetes/manifests", hardened: false);
        t.Directory("/var/lib/etcd", "700");
        t.KubeadmKubelet(unitMode: "644", configMode: "644", hardened: false);
        return t;
    }

    public static NodeTrees Hardened(string root)
    {
        var t = new NodeTrees(root);
        t.Base();
        t.ApiServer("/etc/kubernetes/manifests", hardened: true);
        t.ControlPlane("/etc/kubernetes/manifests", hardened: true);
        t.Directory("/var/lib/etcd", "700");
        t.Chown("/var/lib/etcd", EtcdUid, EtcdUid);
        t.File("/etc/kubernetes/audit-policy.yaml", "600", """
            apiVersion: audit.k8s.io/v1
            kind: Policy
            omitStages: [RequestReceived]
            rules:
              - level: None
                users: ["system:kube-proxy"]
                verbs: [watch]
              - level: Metadata
                resources:
                  - group: ""
                    resources: [secrets, configmaps]
                  - group: authentication.k8s.io
                    resources: [tokenreviews]
              - level: RequestResponse
                resources:
                  - group: ""
                    resources: [pods, pods/exec, pods/attach, pods/portforward, pods/proxy, services/proxy]
                  - group: apps
                    resources: [deployments]
              - level: Metadata
            """);
        t.File("/etc/kubernetes/encryption.yaml", "600", """
            apiVersion: apiserver.config.k8s.io/v1
            kind: EncryptionConfiguration
            resources:
              - resources: [secrets]
                providers:
                  - aescbc:
                      keys:
                        - name: key1
                          secret: c2VjcmV0IGlzIHNlY3VyZSwgb3IgaXMgaXQ/Cg==
                  - identity: {}
            """);
        t.KubeadmKubelet(unitMode: "600", configMode: "600", hardened: true);
        return t;
    }

    /// <summary>
    /// The kubelet's unit in /usr/lib/systemd with flags on continuation lines, its configuration in
    /// /opt (insecure) overridden by a --config-dir drop-in, and static pods in /srv.
    /// </summary>
    public static NodeTrees UnusualPlaces(string root)
    {
        var t = new NodeTrees(root);
        t.Base();
        t.ApiServer("/srv/k8s/static", hardened: false);
        t.File("/usr/lib/systemd/system/kubelet.service", "600", """
            [Unit]
            Description=kubelet
            [Service]
            ExecStart=/opt/bin/kubelet \
              --config=/opt/k8s/kubelet/config.yaml \
              --config-dir=/etc/kubernetes/kubelet.conf.d \
              --kubeconfig=/opt/k8s/kubelet/kubeconfig \
              --read-only-port=10255
            Restart=always
            """);
        t.File("/opt/k8s/kubelet/config.yaml", "600", """
            apiVersion: kubelet.config.k8s.io/v1beta1
            kind: KubeletConfiguration
            staticPodPath: /srv/k8s/static
            authentication:
              anonymous: {enabled: true}
              webhook: {enabled: true}
              x509: {clientCAFile: /opt/k8s/pki/ca.crt}
            authorization: {mode: AlwaysAllow}
            seccompDefault: true
            """);
        t.File("/etc/kubernetes/kubelet.conf.d/50-hardening.conf", "600", """
            apiVersion: kubelet.config.k8s.io/v1beta1
            kind: KubeletConfiguration
            authentication:
              anonymous: {enabled: false}
            authorization: {mode: Webhook}
            podPidsLimit: 4096
            """);
        t.File("/opt/k8s/kubelet/kubeconfig", "640", "apiVersion: v1\nkind: Config\n");
        t.File("/opt/k8s/pki/ca.crt", "644", "-----BEGIN CERTIFICATE-----\n");
        return t;
    }

    private void Base()
    {
        File("/etc/passwd", "644", $"root:x:0:0:root:/root:/bin/bash\netcd:x:{EtcdUid}:{EtcdUid}:etcd:/var/lib/etcd:/usr/sbin/nologin\n");
        File("/etc/group", "644", $"root:x:0:\netcd:x:{EtcdUid}:\n");
        foreach (var conf in new[] { "admin.conf", "super-admin.conf", "scheduler.conf", "controller-manager.conf", "kubelet.conf" })
        {
            File("/etc/kubernetes/" + conf, "600", "apiVersion: v1\nkind: Config\n");
        }

        foreach (var name in new[] { "ca", "apiserver", "apiserver-kubelet-client", "front-proxy-ca", "etcd/ca", "etcd/server", "etcd/peer" })
        {
            File($"/etc/kubernetes/pki/{name}.crt", "644", "-----BEGIN CERTIFICATE-----\n");
            File($"/etc/kubernetes/pki/{name}.key", "600", "-----BEGIN PRIVATE KEY-----\n");
        }

        File("/etc/kubernetes/pki/sa.key", "600", "-----BEGIN PRIVATE KEY-----\n");
        File("/etc/kubernetes/pki/sa.pub", "644", "-----BEGIN PUBLIC KEY-----\n");
    }

    private void ApiServer(string dir, bool hardened)
    {
        var extra = hardened
            ? """
                - --anonymous-auth=false
                - --profiling=false
                - --kubelet-certificate-authority=/etc/kubernetes/pki/ca.crt
                - --audit-log-path=/var/log/kubernetes/audit.log
                - --audit-log-maxage=30
                - --audit-log-maxbackup=10
                - --audit-log-maxsize=100
                - --audit-policy-file=/etc/kubernetes/audit-policy.yaml
                - --encryption-provider-config=/etc/kubernetes/encryption.yaml
                - --service-account-extend-token-expiration=false
                - --enable-admission-plugins=NodeRestriction,EventRateLimit
            """
            : """
                - --enable-admission-plugins=NodeRestriction
            """;
        File($"{dir}/kube-apiserver.yaml", "600", $$"""
            apiVersion: v1
            kind: Pod
            metadata: {name: kube-apiserver, namespace: kube-system}
            spec:
              hostNetwork: true
              containers:
              - name: kube-apiserver
                image: registry.k8s.io/kube-apiserver:v1.35.0
                command:
                - kube-apiserver
                - --advertise-address=10.0.0.10
                - --allow-privileged=true
                - --authorization-mode=Node,RBAC
                - --client-ca-file=/etc/kubernetes/pki/ca.crt
                - --enable-bootstrap-token-auth=true
                - --etcd-cafile=/etc/kubernetes/pki/etcd/ca.crt
                - --etcd-certfile=/etc/kubernetes/pki/apiserver-etcd-client.crt
                - --etcd-keyfile=/etc/kubernetes/pki/apiserver-etcd-client.key
                - --etcd-servers=https://127.0.0.1:2379
                - --kubelet-client-certificate=/etc/kubernetes/pki/apiserver-kubelet-client.crt
                - --kubelet-client-key=/etc/kubernetes/pki/apiserver-kubelet-client.key
                - --secure-port=6443
                - --service-account-issuer=https://kubernetes.default.svc.cluster.local
                - --service-account-key-file=/etc/kubernetes/pki/sa.pub
                - --service-account-signing-key-file=/etc/kubernetes/pki/sa.key
                - --service-cluster-ip-range=10.96.0.0/12
                - --tls-cert-file=/etc/kubernetes/pki/apiserver.crt
                - --tls-private-key-file=/etc/kubernetes/pki/apiserver.key
            {{extra.TrimEnd()}}
            """);
    }

    private void ControlPlane(string dir, bool hardened)
    {
        var profiling = hardened ? "\n    - --profiling=false" : string.Empty;
        File($"{dir}/kube-controller-manager.yaml", "600", $"""
            apiVersion: v1
            kind: Pod
            metadata: {"{"}name: kube-controller-manager, namespace: kube-system{"}"}
            spec:
              containers:
              - name: kube-controller-manager
                image: registry.k8s.io/kube-controller-manager:v1.35.0
                command:
                - kube-controller-manager
                - --bind-address=127.0.0.1
                - --kubeconfig=/etc/kubernetes/controller-manager.conf
                - --leader-elect=true
                - --root-ca-file=/etc/kubernetes/pki/ca.crt
                - --service-account-private-key-file=/etc/kubernetes/pki/sa.key
                - --use-service-account-credentials=true{profiling}
            """);
        File($"{dir}/kube-scheduler.yaml", "600", $"""
            apiVersion: v1
            kind: Pod
            metadata: {"{"}name: kube-scheduler, namespace: kube-system{"}"}
            spec:
              containers:
              - name: kube-scheduler
                image: registry.k8s.io/kube-scheduler:v1.35.0
                command:
                - kube-scheduler
                - --bind-address=127.0.0.1
                - --kubeconfig=/etc/kubernetes/scheduler.conf
                - --leader-elect=true{profiling}
            """);
        File($"{dir}/etcd.yaml", "600", """
            apiVersion: v1
            kind: Pod
            metadata: {name: etcd, namespace: kube-system}
            spec:
              containers:
              - name: etcd
                image: registry.k8s.io/etcd:3.5.21-0
                command:
                - etcd
                - --advertise-client-urls=https://10.0.0.10:2379
                - --cert-file=/etc/kubernetes/pki/etcd/server.crt
                - --client-cert-auth=true
                - --data-dir=/var/lib/etcd
                - --key-file=/etc/kubernetes/pki/etcd/server.key
                - --peer-cert-file=/etc/kubernetes/pki/etcd/peer.crt
                - --peer-client-cert-auth=true
                - --peer-key-file=/etc/kubernetes/pki/etcd/peer.key
                - --trusted-ca-file=/etc/kubernetes/pki/etcd/ca.crt
            """);
    }

    private void KubeadmKubelet(string unitMode, string configMode, bool hardened)
    {
        File("/lib/systemd/system/kubelet.service", unitMode, "[Service]\nExecStart=/usr/bin/kubelet\nRestart=always\n");
        File("/etc/systemd/system/kubelet.service.d/10-kubeadm.conf", unitMode, """
            [Service]
            Environment="KUBELET_KUBECONFIG_ARGS=--bootstrap-kubeconfig=/etc/kubernetes/bootstrap-kubelet.conf --kubeconfig=/etc/kubernetes/kubelet.conf"
            Environment="KUBELET_CONFIG_ARGS=--config=/var/lib/kubelet/config.yaml"
            EnvironmentFile=-/var/lib/kubelet/kubeadm-flags.env
            EnvironmentFile=-/etc/default/kubelet
            ExecStart=
            ExecStart=/usr/bin/kubelet $KUBELET_KUBECONFIG_ARGS $KUBELET_CONFIG_ARGS $KUBELET_KUBEADM_ARGS $KUBELET_EXTRA_ARGS
            """);
        File("/var/lib/kubelet/kubeadm-flags.env", "644", "KUBELET_KUBEADM_ARGS=\"--container-runtime-endpoint=unix:///var/run/containerd/containerd.sock --pod-infra-container-image=registry.k8s.io/pause:3.10\"\n");
        var extra = hardened ? "seccompDefault: true\npodPidsLimit: 4096\n" : string.Empty;
        File("/var/lib/kubelet/config.yaml", configMode, $"""
            apiVersion: kubelet.config.k8s.io/v1beta1
            kind: KubeletConfiguration
            authentication:
              anonymous:
                enabled: false
              webhook:
                enabled: true
              x509:
                clientCAFile: /etc/kubernetes/pki/ca.crt
            authorization:
              mode: Webhook
            cgroupDriver: systemd
            rotateCertificates: true
            staticPodPath: /etc/kubernetes/manifests
            {extra}
            """);
    }

    public void File(string hostPath, string mode, string content)
    {
        var full = Path.Combine(Root, hostPath.TrimStart('/'));
        System.IO.Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        System.IO.File.WriteAllText(full, content);
        System.IO.File.SetUnixFileMode(full, (UnixFileMode)Convert.ToInt32(mode, 8));
    }

    public void Directory(string hostPath, string mode)
    {
        var full = Path.Combine(Root, hostPath.TrimStart('/'));
        System.IO.Directory.CreateDirectory(full);
        System.IO.File.SetUnixFileMode(full, (UnixFileMode)Convert.ToInt32(mode, 8));
    }

    public void Chown(string hostPath, int uid, int gid)
    {
        using var p = Process.Start(new ProcessStartInfo("chown", [$"{uid}:{gid}", Path.Combine(Root, hostPath.TrimStart('/'))]) { RedirectStandardError = true })!;
        var error = p.StandardError.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0)
        {
            throw new InvalidOperationException($"chown failed (the node tests need root, as in CI): {error}");
        }
    }
}
