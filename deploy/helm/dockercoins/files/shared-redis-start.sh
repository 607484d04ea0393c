set -e
f=/data/users.acl
if [ ! -s "$f" ]; then
  h=$(printf %s "$REDIS_PASSWORD" | sha256sum | cut -d' ' -f1)
  echo "user default on #$h ~* &* +@all" > "$f"
fi
exec docker-entrypoint.sh redis-server --appendonly yes --aclfile "$f"
