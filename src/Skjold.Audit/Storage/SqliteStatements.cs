using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace Skjold.Audit.Storage;

/// <summary>SQLite's native statements as the store uses them: prepare, step, bind text, read a blob; an error is a SqliteException with SQLite's message.</summary>
internal static class SqliteStatements
{
    internal static sqlite3_stmt Prepare(sqlite3 db, string sql)
    {
        var rc = raw.sqlite3_prepare_v2(db, sql, out var stmt);
        if (rc != raw.SQLITE_OK)
        {
            throw new SqliteException(raw.sqlite3_errmsg(db).utf8_to_string(), rc);
        }

        return stmt;
    }

    internal static void Step(sqlite3 db, sqlite3_stmt stmt)
    {
        var rc = raw.sqlite3_step(stmt);
        raw.sqlite3_reset(stmt);
        if (rc != raw.SQLITE_DONE)
        {
            throw new SqliteException(raw.sqlite3_errmsg(db).utf8_to_string(), rc);
        }
    }

    internal static void Text(sqlite3_stmt stmt, int index, string? value)
    {
        if (value is null)
        {
            raw.sqlite3_bind_null(stmt, index);
        }
        else
        {
            // SQLite converts from UTF-16 itself: no UTF-8 copy on the managed heap for every value.
            // (An empty span would bind NULL.)
            _ = value.Length == 0 ? raw.sqlite3_bind_text(stmt, index, value) : raw.sqlite3_bind_text16(stmt, index, value.AsSpan());
        }
    }

    internal static byte[]? ReadBlob(sqlite3 db, sqlite3_stmt stmt)
    {
        var rc = raw.sqlite3_step(stmt);
        try
        {
            return rc == raw.SQLITE_ROW ? raw.sqlite3_column_blob(stmt, 0).ToArray()
                : rc == raw.SQLITE_DONE ? null
                : throw new SqliteException(raw.sqlite3_errmsg(db).utf8_to_string(), rc);
        }
        finally
        {
            raw.sqlite3_reset(stmt);
        }
    }
}
