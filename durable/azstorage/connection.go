package azstorage

import (
	"encoding/base64"
	"fmt"
	"net/url"
	"strings"
)

// Azurite's published development account (UseDevelopmentStorage=true).
const (
	devAccountName = "devstoreaccount1"
	devAccountKey  = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)

// Account is a parsed storage connection string: the account and the
// three service endpoints, with a shared key or a SAS token.
type Account struct {
	Name          string
	Key           []byte // decoded account key; nil with SAS
	SAS           string // SAS token without '?'; "" with a key
	BlobEndpoint  string // no trailing slash
	QueueEndpoint string
	TableEndpoint string
}

// ParseConnectionString parses the value of the named setting. It accepts
// UseDevelopmentStorage=true (Azurite on loopback), account-key strings
// and endpoint+SAS strings. Errors name the setting, never the key.
func ParseConnectionString(setting, value string) (*Account, error) {
	value = strings.TrimSpace(value)
	if value == "" {
		return nil, fmt.Errorf("setting %s is missing or empty: set it to a storage connection string (UseDevelopmentStorage=true for Azurite)", setting)
	}
	kv := map[string]string{}
	for _, part := range strings.Split(value, ";") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		k, v, ok := strings.Cut(part, "=")
		if !ok {
			return nil, fmt.Errorf("setting %s is not a connection string: %q is not of the form Key=Value", setting, redact(part))
		}
		kv[strings.ToLower(strings.TrimSpace(k))] = strings.TrimSpace(v)
	}
	if strings.EqualFold(kv["usedevelopmentstorage"], "true") {
		host := "http://127.0.0.1"
		if p := kv["developmentstorageproxyuri"]; p != "" {
			u, err := url.Parse(p)
			if err != nil || u.Host == "" {
				return nil, fmt.Errorf("setting %s: DevelopmentStorageProxyUri %q is not a URL", setting, p)
			}
			host = u.Scheme + "://" + u.Hostname()
		}
		key, _ := base64.StdEncoding.DecodeString(devAccountKey)
		return &Account{Name: devAccountName, Key: key,
			BlobEndpoint:  host + ":10000/" + devAccountName,
			QueueEndpoint: host + ":10001/" + devAccountName,
			TableEndpoint: host + ":10002/" + devAccountName}, nil
	}
	a := &Account{Name: kv["accountname"], SAS: strings.TrimPrefix(kv["sharedaccesssignature"], "?")}
	if k := kv["accountkey"]; k != "" {
		key, err := base64.StdEncoding.DecodeString(k)
		if err != nil {
			return nil, fmt.Errorf("setting %s: AccountKey is not valid base64", setting)
		}
		a.Key = key
	}
	if a.Key == nil && a.SAS == "" {
		return nil, fmt.Errorf("setting %s has neither AccountKey nor SharedAccessSignature", setting)
	}
	proto := kv["defaultendpointsprotocol"]
	if proto == "" {
		proto = "https"
	}
	if proto != "http" && proto != "https" {
		return nil, fmt.Errorf("setting %s: DefaultEndpointsProtocol %q must be http or https", setting, proto)
	}
	suffix := kv["endpointsuffix"]
	if suffix == "" {
		suffix = "core.windows.net"
	}
	endpoint := func(service string) (string, error) {
		if v := kv[service+"endpoint"]; v != "" {
			u, err := url.Parse(v)
			if err != nil || u.Scheme == "" || u.Host == "" {
				return "", fmt.Errorf("setting %s: %sEndpoint %q is not an absolute URL", setting, strings.ToUpper(service[:1])+service[1:], v)
			}
			return strings.TrimRight(v, "/"), nil
		}
		if a.Name == "" {
			return "", fmt.Errorf("setting %s has no AccountName and no %sEndpoint", setting, strings.ToUpper(service[:1])+service[1:])
		}
		return fmt.Sprintf("%s://%s.%s.%s", proto, a.Name, service, suffix), nil
	}
	var err error
	if a.BlobEndpoint, err = endpoint("blob"); err != nil {
		return nil, err
	}
	if a.QueueEndpoint, err = endpoint("queue"); err != nil {
		return nil, err
	}
	if a.TableEndpoint, err = endpoint("table"); err != nil {
		return nil, err
	}
	if a.Name == "" && a.Key != nil {
		return nil, fmt.Errorf("setting %s has an AccountKey but no AccountName", setting)
	}
	return a, nil
}

func redact(part string) string {
	if k, _, ok := strings.Cut(part, "="); ok {
		return k + "=…"
	}
	if len(part) > 12 {
		return part[:12] + "…"
	}
	return part
}

// withSAS appends the SAS token to a service URL.
func (a *Account) withSAS(u string) string {
	if a.SAS == "" {
		return u
	}
	return u + "?" + a.SAS
}
