package config

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// maxSecretFile bounds what a *_file twin may hold.
const maxSecretFile = 1 << 20

// readSecretFiles reads every *_file twin into its secret field. Relative
// paths are taken from the directory of the config file.
func (l *loader) readSecretFiles(c *Config, configPath string) {
	dir := filepath.Dir(configPath)
	l.readSecret(&c.Redis.URL, c.Redis.URLFile, "redis.url", dir)
	l.readSecrets(&c.API.Tokens, c.API.TokensFile, "api.tokens", dir)
	l.readSecret(&c.API.FeedSecret, c.API.FeedSecretFile, "api.feed_secret", dir)
	l.readLinkSecrets(c, configPath)
	l.readAccessSecrets(c, configPath)
	for i := range c.Notifiers {
		n := &c.Notifiers[i]
		base := "notifiers[" + strconv.Itoa(i) + "]"
		l.readSecret(&n.URL, n.URLFile, base+".url", dir)
		l.readSecrets(&n.Secrets, n.SecretsFile, base+".secrets", dir)
		l.readSecret(&n.AuthToken, n.AuthTokenFile, base+".auth_token", dir)
		l.readSecret(&n.BotToken, n.BotTokenFile, base+".bot_token", dir)
		l.readSecret(&n.Token, n.TokenFile, base+".token", dir)
		if n.SMTP != nil {
			l.readSecret(&n.SMTP.Password, n.SMTP.PasswordFile, base+".smtp.password", dir)
		}
	}
	for i := range c.Integrations {
		in := &c.Integrations[i]
		base := "integrations[" + strconv.Itoa(i) + "]"
		l.readSecrets(&in.Tokens, in.TokensFile, base+".tokens", dir)
		l.readSecrets(&in.RoutingKeys, in.RoutingKeysFile, base+".routing_keys", dir)
		if s := in.Signature; s != nil {
			l.readSecrets(&s.Secrets, s.SecretsFile, base+".signature.secrets", dir)
		}
	}
}

// readSecret reads a single secret (the whole file, trailing space and
// newlines trimmed) into dst. field is the path of dst; its twin is
// field+"_file".
func (l *loader) readSecret(dst *Secret, file, field, dir string) {
	data, line, ok := l.readTwin(file, *dst != "", field, dir)
	if !ok {
		return
	}
	s := strings.TrimRight(string(data), " \t\r\n")
	if s == "" {
		l.fail(line, field+"_file", "%s is empty", file)
		l.bad[field] = true
		return
	}
	*dst = Secret(s)
	l.lines[field] = line
}

// readSecrets reads a list of secrets into dst: one per non-empty line,
// surrounding space trimmed, lines starting with "#" skipped.
func (l *loader) readSecrets(dst *[]Secret, file, field, dir string) {
	data, line, ok := l.readTwin(file, len(*dst) > 0, field, dir)
	if !ok {
		return
	}
	var list []Secret
	for s := range strings.Lines(string(data)) {
		s = strings.TrimSpace(s)
		if s == "" || strings.HasPrefix(s, "#") {
			continue
		}
		l.lines[field+"["+strconv.Itoa(len(list))+"]"] = line
		list = append(list, Secret(s))
	}
	if len(list) == 0 {
		l.fail(line, field+"_file", "%s holds no secrets", file)
		l.bad[field] = true
		return
	}
	*dst = list
	l.lines[field] = line
}

// readTwin reads the file a *_file field names. ok is false when there is
// nothing to read or a problem was recorded.
func (l *loader) readTwin(file string, valueSet bool, field, dir string) (data []byte, line int, ok bool) {
	if file == "" {
		return nil, 0, false
	}
	twin := field + "_file"
	line = l.lines[twin]
	short := field[strings.LastIndexByte(field, '.')+1:]
	if valueSet {
		l.fail(line, twin, "set either %s or %s_file, not both", short, short)
		return nil, 0, false
	}
	if !filepath.IsAbs(file) {
		file = filepath.Join(dir, file)
	}
	data, err := readSecretFile(file)
	if err != nil {
		l.fail(line, twin, "%v", err)
		// The value is missing because of this; do not also report that.
		l.bad[field] = true
		return nil, 0, false
	}
	return data, line, true
}

// readSecretFile reads a small regular file. Anything else is refused
// before it is opened: opening a FIFO blocks, and /dev/zero never ends.
func readSecretFile(path string) ([]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", path)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxSecretFile+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxSecretFile {
		return nil, fmt.Errorf("%s is larger than %d bytes", path, maxSecretFile)
	}
	return data, nil
}
