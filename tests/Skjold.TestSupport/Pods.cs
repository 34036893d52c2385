namespace Skjold.TestSupport;

/// <summary>Pod manifests for tests, built from a restricted-compliant base.</summary>
public static class Pods
{
    /// <summary>A pod that passes restricted:latest and every workload check but probes.</summary>
    public const string Restricted = """
        apiVersion: v1
        kind: Pod
        metadata:
          name: p
          namespace: apps
        spec:
          securityContext:
            runAsNonRoot: true
            seccompProfile:
              type: RuntimeDefault
          containers:
          - name: app
            image: registry.example.com/app:1.0
            securityContext:
              allowPrivilegeEscalation: false
              capabilities:
                drop: ["ALL"]
        """;
}
