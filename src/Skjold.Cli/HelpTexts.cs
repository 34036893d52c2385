using System.CommandLine;

namespace Skjold.Cli;

/// <summary>
/// Examples and exit codes for every command's help, in one place. A command whose description
/// already has them keeps its own; the rest get these (a test requires both on every command).
/// </summary>
internal static class HelpTexts
{
    private const string Usage = "Exit codes: 0 done; 2 usage, input or environment error.";

    private static readonly Dictionary<string, (string[] Examples, string ExitCodes)> Texts = new(StringComparer.Ordinal)
    {
        ["scan"] = (["skjold scan ./manifests", "helm template my-release ./chart | skjold scan -", "skjold scan ./manifests -f sarif -o skjold.sarif --fail-on high", "skjold scan --cluster -n payments"], string.Empty),
        ["checks"] = (["skjold checks", "skjold checks -f json", "skjold checks -f markdown > docs/checks.md"], Usage),
        ["detect"] = (["skjold detect /var/log/kubernetes/audit.log --rules k8s_audit_rules.yaml", "skjold detect audit.log -r k8s_audit_rules.yaml -r my-overrides.yaml -f json --fail-on error", "skjold detect --data-dir /var/lib/skjold-audit --since 30d -r k8s_audit_rules.yaml"], "Exit codes: 0 no alert at or above --fail-on; 1 alerts at or above --fail-on; 2 a rule file that cannot be loaded (file, line and rule named) or an input that cannot be read."),
        ["rules"] = (["skjold rules lint --rules k8s_audit_rules.yaml", "skjold rules list -r k8s_audit_rules.yaml -r my-overrides.yaml"], "Exit codes: see each command."),
        ["rules list"] = (["skjold rules list --rules k8s_audit_rules.yaml", "skjold rules list -r k8s_audit_rules.yaml -f json"], "Exit codes: 0 listed; 2 a rule file that cannot be loaded."),
        ["rules lint"] = (["skjold rules lint --rules k8s_audit_rules.yaml -r my-overrides.yaml"], "Exit codes: 0 every rule loads and compiles; 2 an error, naming file, line and rule."),
        ["init"] = (["skjold init", "skjold init -o config/skjold.yaml --force"], "Exit codes: 0 written; 2 the file exists (without --force) or cannot be written."),
        ["serve"] = (["skjold serve --self-signed --listen https://127.0.0.1:8443 --namespaces-file namespaces.yaml", "skjold serve --tls-cert /tls/tls.crt --tls-key /tls/tls.key"], "Exit codes: 0 stopped cleanly; 2 usage error, bad certificate, busy port or unreadable configuration."),
        ["install"] = (["skjold install > skjold.yaml", "skjold install -o deploy/generated && kubectl apply -f deploy/generated", "skjold install --cert-manager -o deploy/generated"], Usage),
        ["snapshot"] = (["skjold snapshot -o cluster.json", "skjold snapshot -o prod.json --context prod", "KUBECONFIG=~/.kube/a:~/.kube/b skjold snapshot -o cluster.json"], "Exit codes: 0 written (a warning names kinds that could not be read); 2 no cluster configuration, unreachable or refused."),
        ["rbac"] = (["skjold rbac who-can get secrets -n payments cluster.json", "skjold rbac can sa:ci/deployer cluster.json", "skjold rbac paths cluster.json"], "Exit codes: see each command."),
        ["netpol"] = (["skjold netpol reach --from shop/web --to shop/db:5432/TCP cluster.json", "skjold netpol map cluster.json -f dot > map.dot"], "Exit codes: see each command."),
        ["netpol reach"] = (["skjold netpol reach --from shop/web --to shop/db:5432/TCP cluster.json", "skjold netpol reach --from web/frontend --to 0.0.0.0/0:443/TCP manifests/"], string.Empty),
        ["netpol map"] = (["skjold netpol map cluster.json", "skjold netpol map cluster.json -f csv -o connections.csv", "skjold netpol map cluster.json -f dot > map.dot"], string.Empty),
        ["node-check"] = (["skjold node-check --root /", "skjold node-check --root /host -f json -o node.json", "skjold node-check --root / --fail-on high"], string.Empty),
        ["report"] = (["skjold report --framework cis cluster.json -o cis.html", "skjold report --framework iso27001 manifests/ cluster.json --node-results node.json -f json -o iso.json", "skjold report --framework cis cluster.json --baseline cis.json -f markdown"], string.Empty),
        ["report keygen"] = (["skjold report keygen -o keys/"], "Exit codes: 0 created; 2 a key exists there or the directory cannot be written."),
        ["report verify"] = (["skjold report verify evidence.json --public-key keys/evidence-signing.pub.pem", "skjold report verify evidence.json --public-key auditor.pem --extract report.json"], string.Empty),
        ["frameworks"] = (["skjold frameworks", "skjold frameworks gdpr", "skjold frameworks nis2 -f json"], "Exit codes: 0 printed; 2 unknown framework."),
        ["audit"] = (["skjold audit init", "skjold audit ingest /var/log/kubernetes/audit.log --follow", "skjold audit verify --public-key auditor/audit-signing-key.pub.pem"], "Exit codes: see each command."),
        ["audit init"] = (["skjold audit init", "skjold audit init --data-dir /var/lib/skjold --redact configmaps=data"], "Exit codes: 0 created (keys that exist already are kept, never replaced); 2 bad --redact rule, or the directory or store cannot be written."),
        ["audit ingest"] = (["skjold audit ingest /var/log/kubernetes/audit.log", "skjold audit ingest /var/log/kubernetes/audit.log --follow --data-dir /var/lib/skjold"], "Exit codes: 0 every line sealed; 2 lines rejected (recorded as ingest-rejected events), no audit events in the file, or no store."),
        ["audit serve"] = (["skjold audit serve --self-signed --token-file token", "skjold audit serve --tls-cert tls.crt --tls-key tls.key --client-ca apiserver-ca.crt --postgres \"Host=db;Database=audit\""], "Exit codes: 0 stopped cleanly; 2 usage error, bad certificate, busy port or store error."),
        ["audit export"] = (["skjold audit export --who-read-secret payments/db-password --since 30d -o evidence.json", "skjold audit export --user alice --since 2026-11-01 -o alice.json"], "Exit codes: 0 written; 1 the store was tampered with; 2 usage error or no store."),
        ["audit consistency"] = (["skjold audit consistency 100000"], "Exit codes: 0 printed; 2 usage error, no store or no signed head of that size or larger."),
        ["incident open"] = (["skjold incident open pod-compromise payments/ledger-7d9f8-x2x9q --severity critical", "skjold incident open unauthorized-access --sa ci/deployer --aware-at 2026-12-02T08:40:00Z", "skjold incident open secret-exposed shop/db --personal-data yes --reason \"customer database credentials\""], "Exit codes: 0 opened (the id on stdout); 2 a bad target or time, or no store."),
        ["incident list"] = (["skjold incident list", "skjold incident list --all -c skjold.yaml"], "Exit codes: 0 listed; 2 no store."),
        ["incident show"] = (["skjold incident show INC-20261202-3fa9c1"], "Exit codes: 0 shown; 2 no such incident or no store."),
        ["incident plan"] = (["skjold incident plan INC-20261202-3fa9c1", "skjold incident plan INC-20261202-3fa9c1 --snapshot cluster.json"], "Exit codes: 0 printed; 2 no such incident, an unreadable snapshot, or no store."),
        ["incident apply"] = (["skjold incident apply INC-20261202-3fa9c1 --dry-run", "skjold incident apply INC-20261202-3fa9c1", "skjold incident apply INC-20261202-3fa9c1 --step 3 --from-file password=new-password.txt --yes"], "Exit codes: 0 every step done (or rehearsed); 1 a step failed or waits for input (apply again to resume); 2 usage error, a protected namespace without --force, no cluster or no store."),
        ["incident note"] = (["skjold incident note INC-20261202-3fa9c1 \"isolated; logs captured\" --status contained", "skjold incident note INC-20261202-3fa9c1 --personal-data no --reason \"build node, no personal data\""], "Exit codes: 0 recorded; 2 nothing to record, a closed incident, or no store."),
        ["incident close"] = (["skjold incident close INC-20261202-3fa9c1 --resolution \"image rebuilt; token rotated\""], "Exit codes: 0 closed; 2 no such open incident, or no store."),
        ["incident timeline"] = (["skjold incident timeline INC-20261202-3fa9c1", "skjold incident timeline INC-20261202-3fa9c1 --before 7d"], "Exit codes: 0 printed; 2 no such incident or no store."),
        ["incident export"] = (["skjold incident export INC-20261202-3fa9c1 -o INC-20261202-3fa9c1.bundle.json"], "Exit codes: 0 written; 2 no such incident or no store."),
        ["incident verify"] = (["skjold incident verify INC-20261202-3fa9c1.bundle.json --public-key audit-signing-key.pub.pem --evidence-dir incident-evidence"], string.Empty),
        ["incident notify-draft"] = (["skjold incident notify-draft INC-20261202-3fa9c1 --authority datatilsynet --lang nb -o melding.md", "skjold incident notify-draft INC-20261202-3fa9c1 --lang en"], "Exit codes: 0 written; 2 no such incident or no store."),
        ["incident drill"] = (["skjold incident drill pod-compromise payments/ledger-7d9f8-x2x9q", "skjold incident drill node-compromise worker-3 --context staging"], "Exit codes: 0 every step rehearsed; 1 a step failed in dry run; 2 usage error, no cluster or no store."),
        ["audit proof"] = (["skjold audit proof 42"], "Exit codes: 0 printed; 2 usage error, no store or leaf not yet signed."),
        ["audit purge"] = (["skjold audit purge --dry-run", "skjold audit purge --retention-days 400 --rule events=90 --force"], "Exit codes: 0 purged (or, with --dry-run, reported); 2 usage error, retention below the minimum without --force, or no store."),
        ["audit erase"] = (["skjold audit erase --user alice@example.com --reason GDPR-2026-117 --dry-run", "skjold audit erase --user alice@example.com --reason GDPR-2026-117"], "Exit codes: 0 erased (or, with --dry-run, reported); 2 usage error or no store."),
        ["audit rotate-key"] = (["skjold audit rotate-key --key-dir /etc/skjold/audit-keys"], "Exit codes: 0 rotated; 2 no keys or no store."),
        ["audit hold"] = (["skjold audit hold add --reason CASE-42 --namespace payments", "skjold audit hold list", "skjold audit hold release 1"], "Exit codes: see each command."),
        ["audit hold add"] = (["skjold audit hold add --reason CASE-42 --namespace payments --until 2027-06-30", "skjold audit hold add --reason CASE-43 --user mallory"], "Exit codes: 0 placed; 2 usage error or no store."),
        ["audit hold list"] = (["skjold audit hold list", "skjold audit hold list --data-dir /var/lib/skjold"], "Exit codes: 0 listed; 2 no store."),
        ["audit hold release"] = (["skjold audit hold release 1"], "Exit codes: 0 released; 2 no such hold or no store."),
        ["audit checkpoint"] = (["skjold audit checkpoint -o checkpoint-2026-12.json"], "Exit codes: 0 printed; 2 no store or no keys."),
        ["audit query"] = ([], "Exit codes: 0 answered (and confirmed); 1 the store was tampered with: the answer is refused, naming the leaf; 2 usage error, no store or no public key."),
    };

    public static void Apply(Command root)
    {
        foreach (var c in root.Subcommands)
        {
            Apply(c, c.Name);
        }
    }

    private static void Apply(Command c, string path)
    {
        if (Texts.TryGetValue(path, out var text))
        {
            var description = c.Description ?? string.Empty;
            if (!description.Contains("Examples:", StringComparison.Ordinal))
            {
                description = description.TrimEnd() + "\nExamples:\n" + string.Join("\n", text.Examples.Select(e => "  " + e));
            }

            if (!description.Contains("Exit codes", StringComparison.Ordinal) && text.ExitCodes.Length > 0)
            {
                description = description.TrimEnd() + "\n" + text.ExitCodes;
            }

            c.Description = description;
        }

        foreach (var sub in c.Subcommands)
        {
            Apply(sub, path + " " + sub.Name);
        }
    }
}
