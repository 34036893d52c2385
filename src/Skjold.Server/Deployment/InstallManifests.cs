using System.Globalization;
using Skjold.Server.Tls;

namespace Skjold.Server.Deployment;

/// <summary>
/// The manifests that run Skjold in a cluster. Built so that a Skjold outage never locks the
/// cluster: two replicas spread over nodes with a PodDisruptionBudget, kube-system and Skjold's own
/// namespace excluded from every webhook, and failurePolicy Fail only where Skjold is the last line
/// (Pod creation), Ignore elsewhere. Skjold's own objects pass `skjold scan` at restricted.
/// </summary>
public static partial class InstallManifests
{
    public sealed record Options(string Namespace, string Image, int Replicas, bool CertManager, string PodFailurePolicy, int TimeoutSeconds);

    public static IReadOnlyList<(string File, string Yaml)> Render(Options o, TimeProvider time)
    {
        var files = new List<(string, string)>();
        var ns = o.Namespace;
        var service = "skjold";
        var digestPinned = o.Image.Contains("@sha256:", StringComparison.Ordinal);
        var imageSuppression = digestPinned ? string.Empty :
            "\n  annotations:\n    skjold.io/suppress: wl/image-digest\n" +
            "    skjold.io/suppress-reason: \"Tag reference for evaluation; install with --image REF@sha256:... to pin the release digest.\"";
        var deadline = Math.Max(1, o.TimeoutSeconds - 2).ToString(CultureInfo.InvariantCulture);

        files.Add(("00-namespace.yaml", $$"""
            # Skjold's own namespace: restricted Pod Security enforced, excluded from Skjold's webhooks
            # so that Skjold can always be restarted.
            apiVersion: v1
            kind: Namespace
            metadata:
              name: {{ns}}
              labels:
                app.kubernetes.io/part-of: skjold
                pod-security.kubernetes.io/enforce: restricted
                pod-security.kubernetes.io/enforce-version: latest
                pod-security.kubernetes.io/audit: restricted
                pod-security.kubernetes.io/warn: restricted
            """));

        files.Add(("10-rbac.yaml", $$"""
            # Least privilege: Skjold reads namespace labels, nothing else.
            apiVersion: v1
            kind: ServiceAccount
            metadata:
              name: {{service}}
              namespace: {{ns}}
            automountServiceAccountToken: false
            ---
            apiVersion: rbac.authorization.k8s.io/v1
            kind: ClusterRole
            metadata:
              name: skjold-namespace-reader
            rules:
              - apiGroups: [""]
                resources: ["namespaces"]
                verbs: ["get", "list", "watch"]
            ---
            apiVersion: rbac.authorization.k8s.io/v1
            kind: ClusterRoleBinding
            metadata:
              name: skjold-namespace-reader
            roleRef:
              apiGroup: rbac.authorization.k8s.io
              kind: ClusterRole
              name: skjold-namespace-reader
            subjects:
              - kind: ServiceAccount
                name: {{service}}
                namespace: {{ns}}
            """));

        files.Add(("20-config.yaml", $$"""
            apiVersion: v1
            kind: ConfigMap
            metadata:
              name: skjold-config
              namespace: {{ns}}
            data:
              skjold.yaml: |
                # Admission policy; see docs/admission.md. Namespaces without pod-security labels get these modes.
                admission:
                  defaults:
                    enforce: baseline
                    audit: restricted
                    warn: restricted
                  checks:
                    default: warn
                    warnFrom: medium
                  exemptions:
                    namespaces: [kube-system, {{ns}}]
            """));

        string caBundle;
        string webhookAnnotations;
        if (o.CertManager)
        {
            caBundle = string.Empty;
            webhookAnnotations = $"cert-manager.io/inject-ca-from: {ns}/skjold-serving";
            files.Add(("30-certificate.yaml", $$"""
                # cert-manager issues and rotates the serving certificate; Skjold reloads it from disk.
                apiVersion: cert-manager.io/v1
                kind: Issuer
                metadata:
                  name: skjold-selfsigned
                  namespace: {{ns}}
                spec:
                  selfSigned: {}
                ---
                apiVersion: cert-manager.io/v1
                kind: Certificate
                metadata:
                  name: skjold-serving
                  namespace: {{ns}}
                spec:
                  secretName: skjold-tls
                  duration: 2160h
                  renewBefore: 360h
                  privateKey:
                    algorithm: ECDSA
                    size: 256
                    rotationPolicy: Always
                  dnsNames:
                    - {{service}}.{{ns}}.svc
                    - {{service}}.{{ns}}.svc.cluster.local
                  issuerRef:
                    name: skjold-selfsigned
                    kind: Issuer
                """));
        }
        else
        {
            var certs = SelfSignedCertificates.Create(service, ns, time);
            caBundle = certs.CaBundle;
            webhookAnnotations = string.Empty;
            files.Add(("30-certificate.yaml", $$"""
                # Generated by skjold install: the serving key pair, signed by a CA whose certificate is the
                # caBundle of the webhook configurations. This file holds a private key: apply it, do not
                # commit it. Prefer --cert-manager where cert-manager runs.
                apiVersion: v1
                kind: Secret
                metadata:
                  name: skjold-tls
                  namespace: {{ns}}
                type: kubernetes.io/tls
                data:
                  tls.crt: {{Convert.ToBase64String(System.Text.Encoding.ASCII.GetBytes(certs.ServerPem))}}
                  tls.key: {{Convert.ToBase64String(System.Text.Encoding.ASCII.GetBytes(certs.ServerKeyPem))}}
                """));
        }

        files.Add(("40-deployment.yaml", $$"""
            apiVersion: apps/v1
            kind: Deployment
            metadata:
              name: skjold
              namespace: {{ns}}
              labels: {app.kubernetes.io/name: skjold}{{imageSuppression}}
            spec:
              replicas: {{o.Replicas.ToString(CultureInfo.InvariantCulture)}}
              revisionHistoryLimit: 3
              selector:
                matchLabels: {app.kubernetes.io/name: skjold}
              strategy:
                type: RollingUpdate
                rollingUpdate: {maxUnavailable: 0, maxSurge: 1}
              template:
                metadata:
                  labels: {app.kubernetes.io/name: skjold}
                spec:
                  serviceAccountName: {{service}}
                  automountServiceAccountToken: false
                  securityContext:
                    runAsNonRoot: true
                    runAsUser: 65532
                    runAsGroup: 65532
                    seccompProfile: {type: RuntimeDefault}
                  topologySpreadConstraints:
                    - maxSkew: 1
                      topologyKey: kubernetes.io/hostname
                      whenUnsatisfiable: ScheduleAnyway
                      labelSelector:
                        matchLabels: {app.kubernetes.io/name: skjold}
                  terminationGracePeriodSeconds: 30
                  containers:
                    - name: skjold
                      image: {{o.Image}}
                      args:
                        - serve
                        - --listen=https://0.0.0.0:8443
                        - --tls-cert=/etc/skjold/tls/tls.crt
                        - --tls-key=/etc/skjold/tls/tls.key
                        - --config=/etc/skjold/config/skjold.yaml
                        - --request-timeout={{deadline}}
                      ports:
                        - {name: https, containerPort: 8443}
                      readinessProbe:
                        httpGet: {path: /readyz, port: https, scheme: HTTPS}
                        periodSeconds: 5
                      livenessProbe:
                        httpGet: {path: /healthz, port: https, scheme: HTTPS}
                        periodSeconds: 10
                      resources:
                        requests: {cpu: 100m, memory: 128Mi}
                        limits: {memory: 512Mi}
                      securityContext:
                        allowPrivilegeEscalation: false
                        readOnlyRootFilesystem: true
                        capabilities: {drop: ["ALL"]}
                      volumeMounts:
                        - {name: tls, mountPath: /etc/skjold/tls, readOnly: true}
                        - {name: config, mountPath: /etc/skjold/config, readOnly: true}
                        - {name: api-token, mountPath: /var/run/secrets/kubernetes.io/serviceaccount, readOnly: true}
                        - {name: tmp, mountPath: /tmp}
                  volumes:
                    - name: tls
                      secret: {secretName: skjold-tls}
                    - name: config
                      configMap: {name: skjold-config}
                    - name: tmp
                      emptyDir: {sizeLimit: 64Mi}
                    # The API token is mounted explicitly (automount is off): short-lived and audience-bound.
                    - name: api-token
                      projected:
                        sources:
                          - serviceAccountToken: {path: token, expirationSeconds: 3600}
                          - configMap:
                              name: kube-root-ca.crt
                              items: [{key: ca.crt, path: ca.crt}]
                          - downwardAPI:
                              items:
                                - path: namespace
                                  fieldRef: {fieldPath: metadata.namespace}
            ---
            apiVersion: policy/v1
            kind: PodDisruptionBudget
            metadata:
              name: skjold
              namespace: {{ns}}
            spec:
              minAvailable: 1
              selector:
                matchLabels: {app.kubernetes.io/name: skjold}
            ---
            apiVersion: v1
            kind: Service
            metadata:
              name: {{service}}
              namespace: {{ns}}
            spec:
              type: ClusterIP
              selector: {app.kubernetes.io/name: skjold}
              ports:
                - {name: https, port: 443, targetPort: https}
            ---
            # Default deny for the namespace, then only what Skjold needs: webhook calls in, API server and DNS out.
            apiVersion: networking.k8s.io/v1
            kind: NetworkPolicy
            metadata:
              name: default-deny
              namespace: {{ns}}
            spec:
              podSelector: {}
              policyTypes: [Ingress, Egress]
            ---
            # The API server's addresses differ per cluster (and managed control planes change them), so the
            # webhook port and the API server ports are open by port only; narrow them with ipBlocks if you can.
            apiVersion: networking.k8s.io/v1
            kind: NetworkPolicy
            metadata:
              name: skjold
              namespace: {{ns}}
              annotations:
                skjold.io/suppress: netpol/ingress-from-anywhere,netpol/egress-to-anywhere
                skjold.io/suppress-reason: "The API server calls the webhook and serves the API from addresses that differ per cluster; the rules are limited to the ports used."
            spec:
              podSelector:
                matchLabels: {app.kubernetes.io/name: skjold}
              policyTypes: [Ingress, Egress]
              ingress:
                - ports: [{port: 8443, protocol: TCP}]
              egress:
                - ports: [{port: 443, protocol: TCP}, {port: 6443, protocol: TCP}]
                - ports: [{port: 53, protocol: UDP}, {port: 53, protocol: TCP}]
            """));

        files.Add(("50-webhooks.yaml", Webhooks(o, service, caBundle, webhookAnnotations)));
        return files;
    }

    private static string Webhooks(Options o, string service, string caBundle, string annotation)
    {
        var ns = o.Namespace;
        var timeout = o.TimeoutSeconds.ToString(CultureInfo.InvariantCulture);
        var sb = new System.Text.StringBuilder();
        void Line(string text) => sb.Append(text).Append('\n');

        void Metadata()
        {
            Line("metadata:");
            Line("  name: skjold");
            if (annotation.Length > 0)
            {
                Line("  annotations:");
                Line("    " + annotation);
            }
        }

        void Webhook(string name, string path, string failure, bool mutate, string[] rules)
        {
            Line($"  - name: {name}");
            Line("    admissionReviewVersions: [v1, v1beta1]");
            Line("    sideEffects: None");
            Line("    matchPolicy: Equivalent");
            Line($"    timeoutSeconds: {timeout}");
            Line($"    failurePolicy: {failure}");
            if (mutate)
            {
                Line("    reinvocationPolicy: Never");
            }

            Line("    clientConfig:");
            Line($"      service: {{name: {service}, namespace: {ns}, path: {path}, port: 443}}");
            if (caBundle.Length > 0)
            {
                Line($"      caBundle: {caBundle}");
            }

            Line("    namespaceSelector:");
            if (mutate)
            {
                Line("      matchLabels: {skjold.io/mutate: enabled}");
            }

            Line("      matchExpressions:");
            Line($"        - {{key: kubernetes.io/metadata.name, operator: NotIn, values: [kube-system, {ns}]}}");
            Line("    rules:");
            foreach (var r in rules)
            {
                Line("      - " + r);
            }
        }

        Line("# Failure policy per resource (see docs/admission.md):");
        Line($"#   pods            {o.PodFailurePolicy,-6}  Skjold is the last check before a pod runs.");
        Line("#   workloads       Ignore  warnings and audit only; enforcement happens on their pods.");
        Line("#   services, PDBs  Ignore  Skjold's own checks; never block when Skjold is down.");
        Line("#   namespaces      Ignore  keeps the namespace cache current; never blocks namespace changes.");
        Line($"# kube-system and {ns} are excluded everywhere, so neither the control plane nor Skjold");
        Line("# itself can be locked out by an outage of Skjold.");
        Line("apiVersion: admissionregistration.k8s.io/v1");
        Line("kind: ValidatingWebhookConfiguration");
        Metadata();
        Line("webhooks:");
        Webhook("pods.validate.skjold.io", "/validate", o.PodFailurePolicy, false,
            ["{apiGroups: [\"\"], apiVersions: [v1], operations: [CREATE, UPDATE], resources: [pods, pods/ephemeralcontainers], scope: Namespaced}"]);
        Webhook("workloads.validate.skjold.io", "/validate", "Ignore", false,
        [
            "{apiGroups: [apps], apiVersions: [v1], operations: [CREATE, UPDATE], resources: [deployments, replicasets, statefulsets, daemonsets], scope: Namespaced}",
            "{apiGroups: [batch], apiVersions: [v1], operations: [CREATE, UPDATE], resources: [jobs, cronjobs], scope: Namespaced}",
            "{apiGroups: [\"\"], apiVersions: [v1], operations: [CREATE, UPDATE], resources: [replicationcontrollers, podtemplates, services], scope: Namespaced}",
            "{apiGroups: [policy], apiVersions: [v1], operations: [CREATE, UPDATE], resources: [poddisruptionbudgets], scope: Namespaced}",
        ]);
        Webhook("namespaces.validate.skjold.io", "/validate", "Ignore", false,
            ["{apiGroups: [\"\"], apiVersions: [v1], operations: [CREATE, UPDATE], resources: [namespaces], scope: Cluster}"]);
        Line("---");
        Line("# Mutation adds safe defaults to pods in namespaces labelled skjold.io/mutate=enabled.");
        Line("# Ignore on failure: validation still enforces when mutation is unavailable.");
        Line("apiVersion: admissionregistration.k8s.io/v1");
        Line("kind: MutatingWebhookConfiguration");
        Metadata();
        Line("webhooks:");
        Webhook("pods.mutate.skjold.io", "/mutate", "Ignore", true,
            ["{apiGroups: [\"\"], apiVersions: [v1], operations: [CREATE], resources: [pods], scope: Namespaced}"]);
        return sb.ToString();
    }
}
